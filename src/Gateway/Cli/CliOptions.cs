using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Gateway.Cli;

/// <summary>Options and checks several verbs share.</summary>
internal static class CliOptions
{
    /// <summary><c>--type</c>: an event contract name (or <c>all</c>), refused as a usage error when unknown.</summary>
    public static Option<string> EventType(bool allowAll)
    {
        var type = new Option<string>("--type")
        {
            Description = allowAll ? "The event's contract name, or 'all'." : "The event's contract name, e.g. AbsenceReported.",
            Required = true,
        };
        type.Validators.Add(r =>
        {
            if (r.Tokens is [{ Value: var name }] && !(allowAll && name == "all") && !EventCatalogue.Default.Knows(name))
            {
                r.AddError($"--type '{name}' is not an event type; known: {string.Join(", ", EventCatalogue.Default.Types.Keys.Order(StringComparer.Ordinal))}");
            }
        });
        return type;
    }

    /// <summary>Refuses a whole number outside [min, max]; a value that did not parse already has its error.</summary>
    public static void MustBeBetween(this Option<int> option, int min, int max) => option.Validators.Add(r =>
    {
        if (r.Tokens is [{ Value: var text }] && int.TryParse(text, CultureInfo.InvariantCulture, out var n) && (n < min || n > max))
        {
            r.AddError($"{option.Name} must be between {min} and {max}");
        }
    });

    /// <summary>Writes each text to its own file in <paramref name="directory"/>, or one after another to the output.</summary>
    public static void Emit(ParseResult parse, DirectoryInfo? directory, IEnumerable<(string FileName, string Text)> items)
    {
        directory?.Create();
        foreach (var (fileName, text) in items)
        {
            if (directory is null)
            {
                parse.InvocationConfiguration.Output.WriteLine(text.TrimEnd('\n'));
            }
            else
            {
                File.WriteAllText(Path.Combine(directory.FullName, fileName), text);
            }
        }
    }
}
