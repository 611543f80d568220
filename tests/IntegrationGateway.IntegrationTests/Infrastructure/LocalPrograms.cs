using System.Diagnostics;

namespace IntegrationGateway.IntegrationTests.Infrastructure;

/// <summary>Programs of the machine the tests run on: Debian's PostgreSQL tools, and running a program to its end.</summary>
internal static class LocalPrograms
{
    /// <summary>What a program printed and how it ended.</summary>
    public sealed record Result(int ExitCode, string Output, string Errors)
    {
        public override string ToString() => $"exit {ExitCode}: {Output.Trim()} {Errors.Trim()}".Trim();
    }

    /// <summary>
    /// A program of Debian's PostgreSQL packages (what deploy/local/up.sh installs), from the newest version's
    /// bin folder; fails, never skips, without it.
    /// </summary>
    public static string Postgres(string program)
    {
        var path = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin", program)).Where(File.Exists).Order().LastOrDefault()
            : null;
        Assert.True(path is not null, $"{program} not found under /usr/lib/postgresql/*/bin: install postgresql (deploy/local/up.sh does)");
        return path!;
    }

    /// <summary>Runs a program with these arguments (no shell) and the environment given on top of the tests' own.</summary>
    public static async Task<Result> RunAsync(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new Result(process.ExitCode, await output, await errors);
    }
}
