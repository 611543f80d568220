using System.Globalization;
using IntegrationGateway.Load;

// The load harness (deploy/local/load.sh). `consume raw|masstransit QUEUE MARKS` is a reference consumer's own
// process, started by the harness; anything else runs the comparison and writes the report.
if (args is ["consume", var kind, var queue, var marks])
{
    return await Consumers.RunAsync(kind, queue, [.. marks.Split(',').Select(m => int.Parse(m, CultureInfo.InvariantCulture))]);
}

if (LoadOptions.Parse(args) is not { } options)
{
    return 2;
}

Directory.CreateDirectory(options.Output);
var time = TimeProvider.System;
await using var sampler = new CpuSampler(time);
sampler.Watch("rabbitmq", () => LoadSettings.RabbitMqPid() is { } pid ? ProcessCpu.Seconds(pid) : null);
sampler.Watch("postgres", () => LoadSettings.PostgresPid() is { } pid ? ProcessCpu.TreeSeconds(pid) : null);
sampler.Watch("machine", () => ProcessCpu.Machine().Busy);
sampler.Watch("steal", () => ProcessCpu.Machine().Steal);
if (LoadSettings.RabbitMqPid() is null || LoadSettings.PostgresPid() is null)
{
    Console.Error.WriteLine("RabbitMQ or PostgreSQL is not running locally (deploy/local/up.sh starts them); their CPU could not be read.");
    return 1;
}

sampler.Start();
var rows = new List<Row>();
var workloads = Workload.All;
Progress.Line($"{options.Runs} run(s): {options.Events:N0} events per workload after {options.Warmup:N0} to warm up, {options.PacedEvents:N0} paced; report in {options.Output}");
for (var run = 1; run <= options.Runs; run++)
{
    var reference = new ReferenceConsumers(options, sampler, time);
    if (options.Includes("raw"))
    {
        rows.Add(await reference.RunAsync(run, "raw", ReferenceConsumers.RawLabel));
    }

    if (options.Includes("masstransit"))
    {
        rows.Add(await reference.RunAsync(run, "masstransit", ReferenceConsumers.MassTransitLabel));
    }

    var gateway = new GatewayRun(options, sampler, time);
    if (options.Includes("gateway"))
    {
        rows.AddRange(await gateway.RunAsync(run, 1, options.Includes("mix") ? workloads : workloads[..1], options.Events, paced: true));
    }

    if (options.Replicas > 1)
    {
        rows.AddRange(await gateway.RunAsync(run, options.Replicas, workloads[..1], options.Events, paced: false));
    }

    await LoadReport.WriteAsync(options, rows);
}

if (options.Backlog > 0)
{
    var gateway = new GatewayRun(options, sampler, time);
    var backlog = await gateway.RunAsync(0, 1, [Workload.TwoRoutes with { Name = $"backlog of {options.Backlog:N0}, 2 routes" }], options.Backlog, paced: false);
    rows.AddRange(backlog);
}

await LoadReport.WriteAsync(options, rows);
Console.WriteLine(await File.ReadAllTextAsync(Path.Combine(options.Output, "report.md")));
return rows.All(r => r.Accounted) ? 0 : 1;

/// <summary>What to run: <c>--events N --warmup W --paced P --runs K --replicas R --backlog B --out DIR</c>.</summary>
internal sealed record LoadOptions(int Events, int Warmup, int PacedEvents, int Runs, int Replicas, int Backlog, string Output, IReadOnlySet<string>? Only = null)
{
    /// <summary>Whether this part runs: all do unless <c>--only</c> names some (raw, masstransit, gateway, mix).</summary>
    public bool Includes(string part) => Only is null || Only.Contains(part);

    public static LoadOptions? Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                Console.Error.WriteLine($"usage: load.sh [--events N] [--warmup N] [--paced N] [--runs K] [--replicas R] [--backlog N] [--only raw,masstransit,gateway,mix] [--out DIR]; '{args[i]}' is not one of them");
                return null;
            }

            values[args[i][2..]] = args[++i];
        }

        int Int(string name, int fallback, int min)
        {
            if (!values.Remove(name, out var text))
            {
                return fallback;
            }

            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min)
            {
                throw new ArgumentException($"--{name} needs a whole number of at least {min}, not '{text}'");
            }

            return n;
        }

        try
        {
            var events = Int("events", 20_000, 100);
            // As many to warm up as to measure: the runtime's tiered compilation takes thousands of events to settle
            // (the gateway's 2-route cost measured 1,108 us per event after 2,000, 484-652 us after 20,000).
            var options = new LoadOptions(events, Int("warmup", Math.Max(100, events), 100), Int("paced", Math.Max(1000, events / 4), 100),
                Int("runs", 1, 1), Int("replicas", 1, 1), Int("backlog", 0, 0),
                values.Remove("out", out var output) ? output : Path.Combine(LoadSettings.Root, "artifacts", "load"),
                values.Remove("only", out var only) ? only.Split(',', StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal) : null);
            if (values.Count > 0)
            {
                throw new ArgumentException($"unknown option --{values.Keys.First()}");
            }

            return options;
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return null;
        }
    }
}

/// <summary>The harness's progress lines, on standard error, stamped with the time since it started.</summary>
internal static class Progress
{
    static readonly long Started = TimeProvider.System.GetTimestamp();

    public static void Line(string text) => Console.Error.WriteLine($"[load {TimeProvider.System.GetElapsedTime(Started):mm\\:ss}] {text}");
}
