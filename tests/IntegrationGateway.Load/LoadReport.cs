using System.Globalization;
using System.Text;
using System.Text.Json;
using ScottPlot;

namespace IntegrationGateway.Load;

/// <summary>
/// The harness's report: <c>report.md</c> (every row of every run, the ratios to the MassTransit no-op consumer, and
/// the issue's targets against the runs' medians), <c>report.json</c> (the rows) and <c>report.png</c> (rates, CPU per
/// message by process, latency at half the maximum rate). Figures only: nothing here passes or fails.
/// </summary>
internal static class LoadReport
{

    public static async Task WriteAsync(LoadOptions options, IReadOnlyList<Row> rows)
    {
        await File.WriteAllTextAsync(Path.Combine(options.Output, "report.json"), JsonSerializer.Serialize(new { options, rows }, Json));
        await File.WriteAllTextAsync(Path.Combine(options.Output, "report.md"), Markdown(options, rows));
        try
        {
            Chart(rows, Path.Combine(options.Output, "report.png"));
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or InvalidOperationException)
        {
            Progress.Line($"the chart could not be drawn ({ex.GetType().Name}: {ex.Message}); the report and JSON are written");
        }
    }

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    static string Markdown(LoadOptions options, IReadOnlyList<Row> rows)
    {
        var md = new StringBuilder();
        var I = CultureInfo.InvariantCulture;
        md.AppendLine("# Load harness report").AppendLine();
        md.AppendLine(I, $"{TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC, commit {Environment.GetEnvironmentVariable("IG_COMMIT") ?? "unknown"}, {Environment.ProcessorCount} cores. " +
            $"Each consumer drains a pre-filled durable quorum queue of persistent messages with prefetch {Consumers.Prefetch}: {options.Warmup:N0} to warm up, then {options.Events:N0} measured; " +
            $"then {options.PacedEvents:N0} more published at half the rate it reached. CPU is per message over the measured window, from /proc, for each process on the machine's shared cores.").AppendLine();
        md.AppendLine("| run | consumer | workload | msg/s | transfers/s | CPU µs/msg: own | simulator | RabbitMQ | PostgreSQL | cores busy / stolen | peak RSS MiB | drain latency ms p50 / p95 / p99 / max | at 50 %: msg/s | p50 / p95 / p99 / max ms | accounted |");
        md.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---|");
        foreach (var r in rows)
        {
            md.AppendLine(I, $"| {r.Run} | {r.Consumer} | {r.Workload} | {r.MessagesPerSecond:N0} | {(r.Transfers > 0 ? r.TransfersPerSecond.ToString("N0", I) : "")} | " +
                $"{Cpu(r, "consumer")} | {Cpu(r, "simulator")} | {Cpu(r, "rabbitmq")} | {Cpu(r, "postgres")} | {r.BusyShare:P0} / {r.StealShare:P1} | {r.PeakRssMiB:N0} | {Lat(r.Drain)} | " +
                $"{(r.PacedRate is { } rate ? rate.ToString("N0", I) : "")} | {(r.Paced is { } p ? Lat(p) : "")} | {(r.Accounted ? "yes" : "**NO**")}: {r.Accounting} |");
        }

        md.AppendLine().AppendLine("## The ledger's chain lock while the gateways drained").AppendLine();
        md.AppendLine("Sampled every 20 ms from pg_locks over the whole drain (warm-up included): the share of samples in which a gateway held the one chain lock, and how many waited for it. With N replicas, a lock held nearly always with sessions queued behind it is what would cap them.").AppendLine();
        foreach (var group in rows.Where(r => r.LedgerLock is not null).GroupBy(r => (r.Run, r.Consumer)))
        {
            md.AppendLine(I, $"- run {group.Key.Run}, {group.Key.Consumer} ({string.Join(", ", group.Select(r => r.Workload))}): {group.First().LedgerLock}");
        }

        md.AppendLine().AppendLine("## Against the MassTransit no-op consumer").AppendLine();
        md.AppendLine("| run | rate, 2 routes | rate, 1 route | rate, every type | CPU/msg, 2 routes | CPU/msg, 1 route | at 50 %: p99 ÷ p50 | at 50 %: p99 ms |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        var ratios = Ratios(rows).ToList();
        foreach (var x in ratios)
        {
            md.AppendLine(I, $"| {x.Run} | {x.Rate2:0.00} × | {x.Rate1:0.00} × | {x.RateMix:0.00} × | {x.Cpu2:0.00} × | {x.Cpu1:0.00} × | {x.Tail:0.0} | {x.P99:N0} |");
        }

        if (ratios.Count > 0)
        {
            double Median(Func<Ratio, double> f)
            {
                var v = ratios.Select(f).Order().ToArray();
                return v.Length % 2 == 1 ? v[v.Length / 2] : (v[(v.Length / 2) - 1] + v[v.Length / 2]) / 2;
            }

            var rss = rows.Where(r => r.Workload.StartsWith("backlog", StringComparison.Ordinal)).Select(r => r.PeakRssMiB).DefaultIfEmpty(double.NaN).Max();
            md.AppendLine().AppendLine(I, $"## The targets (median of {ratios.Count} run(s))").AppendLine();
            md.AppendLine("| target | figure | met |").AppendLine("|---|---:|---|");
            void Target(string name, double figure, string unit, bool met) => md.AppendLine(I, $"| {name} | {figure:0.00}{unit} | {(double.IsNaN(figure) ? "not measured" : met ? "yes" : "no")} |");
            Target("gateway CPU per event, 2 routes ≤ 1.5 × MassTransit's per message (floor ≤ 3 ×)", Median(x => x.Cpu2), " ×", Median(x => x.Cpu2) <= 1.5);
            Target("gateway events/s, 2 routes ≥ 0.5 × MassTransit's rate", Median(x => x.Rate2), " ×", Median(x => x.Rate2) >= 0.5);
            Target("gateway events/s, 1 route ≥ 0.7 × MassTransit's rate", Median(x => x.Rate1), " ×", Median(x => x.Rate1) >= 0.7);
            Target("at 50 % of the maximum rate: p99 ≤ 10 × p50", Median(x => x.Tail), " ×", Median(x => x.Tail) <= 10);
            Target("at 50 % of the maximum rate: p99 ≤ 250 ms", Median(x => x.P99), " ms", Median(x => x.P99) <= 250);
            Target("peak RSS ≤ 300 MB draining a backlog of 100,000 (load.sh --backlog 100000)", rss, " MiB", rss * 1.048576 <= 300);
        }

        md.AppendLine().AppendLine("Read it so: *own* is the consumer's process alone (the gateway's replicas summed); the simulator verifies every signature and records every receipt, " +
            "and is the recipients' cost, not the gateway's. *Cores busy / stolen*: of both cores' time over the window, the share in use, and the share the hypervisor gave other guests (when it is high, the run was disturbed). Drain latency counts from the later of a message's publishing and the drain's first settle, so it is the backlog's wait. " +
            "*Accounted* checks every event settled, every delivered decision received once in effect with a valid signature and nothing outside the allow-lists.");
        return md.ToString();
    }

    static string Cpu(Row r, string process) => r.CpuMicrosPerMessage.TryGetValue(process, out var v) && !double.IsNaN(v) ? v.ToString("N0", CultureInfo.InvariantCulture) : "";

    static string Lat(Latency l) => string.Create(CultureInfo.InvariantCulture, $"{l.P50:N1} / {l.P95:N1} / {l.P99:N1} / {l.Max:N1}");

    sealed record Ratio(int Run, double Rate2, double Rate1, double RateMix, double Cpu2, double Cpu1, double Tail, double P99);

    static IEnumerable<Ratio> Ratios(IReadOnlyList<Row> rows)
    {
        foreach (var run in rows.GroupBy(r => r.Run).Where(g => g.Key > 0))
        {
            var mt = run.FirstOrDefault(r => r.Consumer == ReferenceConsumers.MassTransitLabel);
            var two = run.FirstOrDefault(r => r.Consumer == "gateway" && r.Workload == Workload.TwoRoutes.Name);
            var one = run.FirstOrDefault(r => r.Consumer == "gateway" && r.Workload == Workload.OneRoute.Name);
            var mix = run.FirstOrDefault(r => r.Consumer == "gateway" && r.Workload == Workload.EveryType.Name);
            if (mt is null || two is null || one is null || mix is null)
            {
                continue;
            }

            var mtCpu = mt.CpuMicrosPerMessage["consumer"];
            yield return new Ratio(run.Key, two.MessagesPerSecond / mt.MessagesPerSecond, one.MessagesPerSecond / mt.MessagesPerSecond, mix.MessagesPerSecond / mt.MessagesPerSecond,
                two.CpuMicrosPerMessage["consumer"] / mtCpu, one.CpuMicrosPerMessage["consumer"] / mtCpu,
                two.Paced is { } p ? p.P99 / p.P50 : double.NaN, two.Paced?.P99 ?? double.NaN);
        }
    }

    static void Chart(IReadOnlyList<Row> rows, string path)
    {
        // The latest run's rows (and the backlog's, if measured): one bar each.
        var latest = rows.Where(r => r.Run == rows.Max(x => x.Run)).ToList();
        // "gateway\n2 routes": the workload's short name is what follows its event type.
        string Name(Row r) => r.Consumer.StartsWith("gateway", StringComparison.Ordinal)
            ? $"{r.Consumer}\n{(r.Workload.LastIndexOf(", ", StringComparison.Ordinal) is var at and >= 0 ? r.Workload[(at + 2)..] : r.Workload)}"
            : r.Consumer.Replace(", ", "\n", StringComparison.Ordinal);
        var positions = Enumerable.Range(0, latest.Count).Select(i => (double)i).ToArray();
        var labels = latest.Select(Name).ToArray();

        var multiplot = new Multiplot();
        multiplot.AddPlots(3);
        var rates = multiplot.GetPlot(0);
        rates.Add.Bars(latest.Select(r => r.MessagesPerSecond).ToArray());
        rates.Axes.Bottom.SetTicks(positions, labels);
        rates.Axes.Left.Label.Text = "messages (events) per second";
        rates.Title("Drain rate");
        rates.Axes.Margins(bottom: 0);

        var cpu = multiplot.GetPlot(1);
        string[] processes = ["consumer", "simulator", "rabbitmq", "postgres"];
        var colors = new[] { Colors.SteelBlue, Colors.Orange, Colors.SeaGreen, Colors.SlateGray };
        var bars = new List<Bar>();
        for (var i = 0; i < latest.Count; i++)
        {
            double b = 0;
            for (var p = 0; p < processes.Length; p++)
            {
                var v = latest[i].CpuMicrosPerMessage.TryGetValue(processes[p], out var x) && !double.IsNaN(x) ? x : 0;
                bars.Add(new Bar { Position = i, ValueBase = b, Value = b + v, FillColor = colors[p] });
                b += v;
            }
        }

        cpu.Add.Bars(bars);
        for (var p = 0; p < processes.Length; p++)
        {
            cpu.Legend.ManualItems.Add(new LegendItem { LabelText = processes[p] == "consumer" ? "the consumer itself" : processes[p], FillColor = colors[p] });
        }

        cpu.ShowLegend(Alignment.UpperLeft);
        cpu.Axes.Bottom.SetTicks(positions, labels);
        cpu.Axes.Left.Label.Text = "CPU µs per message, by process";
        cpu.Title("CPU per message");
        cpu.Axes.Margins(bottom: 0);

        var latency = multiplot.GetPlot(2);
        var paced = latest.Where(r => r.Paced is not null).ToList();
        string[] percentiles = ["p50", "p95", "p99"];
        var shades = new[] { Colors.LightSteelBlue, Colors.SteelBlue, Colors.Navy };
        var lbars = new List<Bar>();
        for (var i = 0; i < paced.Count; i++)
        {
            var values = new[] { paced[i].Paced!.P50, paced[i].Paced!.P95, paced[i].Paced!.P99 };
            for (var p = 0; p < values.Length; p++)
            {
                lbars.Add(new Bar { Position = (i * 4) + p, Value = values[p], FillColor = shades[p] });
            }
        }

        latency.Add.Bars(lbars);
        for (var p = 0; p < percentiles.Length; p++)
        {
            latency.Legend.ManualItems.Add(new LegendItem { LabelText = percentiles[p], FillColor = shades[p] });
        }

        latency.ShowLegend(Alignment.UpperLeft);
        latency.Axes.Bottom.SetTicks([.. Enumerable.Range(0, paced.Count).Select(i => (i * 4) + 1.0)], [.. paced.Select(Name)]);
        latency.Axes.Left.Label.Text = "publish → settled, ms";
        latency.Title("Latency at half the maximum rate");
        latency.Axes.Margins(bottom: 0);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        multiplot.SavePng(path, 1800, 600);
    }
}
