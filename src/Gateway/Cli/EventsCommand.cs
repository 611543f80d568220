using System.CommandLine;
using System.Text.Json;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Gateway.Cli;

/// <summary><c>events validate | generate</c>: the intake's verdict on an event, and realistic synthetic events.</summary>
internal static class EventsCommand
{
    public static Command Create(TimeProvider time)
    {
        var events = new Command("events", "Validate events as the intake does, and generate synthetic ones.");
        events.Subcommands.Add(Validate(time));
        events.Subcommands.Add(Generate(time));
        events.Subcommands.Add(Schema());
        return events;
    }

    static Option<string> TypeOption(bool allowAll)
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

    static Command Validate(TimeProvider time)
    {
        var type = TypeOption(allowAll: false);
        var file = new Argument<FileInfo>("FILE") { Description = "The event as JSON, as it would be published." };
        file.AcceptExistingOnly();
        var command = new Command("validate", "The intake's verdict: exit 0 valid, 1 invalid with the reasons (field path and rule, never the value).") { type, file };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var path = parse.GetValue(file)!.FullName;
            var violations = new EventValidator(time).Validate(parse.GetValue(type)!, File.ReadAllBytes(path));
            foreach (var violation in violations)
            {
                output.WriteLine(violation.ToString());
            }

            output.WriteLine(violations.Count == 0 ? "valid" : $"invalid: {violations.Count} reason(s)");
            return violations.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    static Command Schema()
    {
        var type = TypeOption(allowAll: true);
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Write TYPE.schema.json files here instead of printing." };
        var command = new Command("schema", "The JSON Schema of an event contract, for publishers that are not .NET.") { type, outDir };
        command.SetAction(parse =>
        {
            var types = parse.GetValue(type) == "all" ? EventSchemas.EventTypes.ToList() : [parse.GetValue(type)!];
            var directory = parse.GetValue(outDir);
            directory?.Create();
            foreach (var eventType in types)
            {
                var schema = EventSchemas.For(eventType);
                if (directory is null)
                {
                    parse.InvocationConfiguration.Output.Write(schema);
                }
                else
                {
                    File.WriteAllText(Path.Combine(directory.FullName, $"{eventType}.schema.json"), schema);
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    static Command Generate(TimeProvider time)
    {
        var type = TypeOption(allowAll: true);
        var count = new Option<int>("--count") { Description = "How many events.", DefaultValueFactory = _ => 1 };
        count.Validators.Add(r =>
        {
            if (r.Tokens is [{ Value: var text }] && int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is < 1 or > 1_000_000)
            {
                r.AddError("--count must be between 1 and 1000000");
            }
        });
        var seed = new Option<int>("--seed") { Description = "Seed: the same seed gives the same events (ids included).", DefaultValueFactory = _ => 1 };
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Write one file per event (TYPE-N.json) here instead of JSON lines to standard output." };
        var command = new Command("generate", "Realistic synthetic events: Dutch and Flemish names, valid checksums, plausible dates.") { type, count, seed, outDir };
        command.SetAction(parse =>
        {
            var types = parse.GetValue(type) == "all" ? SampleEventGenerator.EventTypes : [parse.GetValue(type)!];
            var generator = new SampleEventGenerator(parse.GetValue(seed), time);
            var directory = parse.GetValue(outDir);
            directory?.Create();
            for (var i = 0; i < parse.GetValue(count); i++)
            {
                var eventType = types[i % types.Count];
                var json = JsonSerializer.Serialize(generator.Next(eventType), EventJson.ContractType(eventType), EventJsonContext.Default);
                if (directory is null)
                {
                    parse.InvocationConfiguration.Output.WriteLine(json);
                }
                else
                {
                    File.WriteAllText(Path.Combine(directory.FullName, $"{eventType}-{i + 1}.json"), json);
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
