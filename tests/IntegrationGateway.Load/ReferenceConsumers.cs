using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using RabbitMQ.Client;

namespace IntegrationGateway.Load;

/// <summary>
/// Runs a reference consumer (raw RabbitMQ.Client, MassTransit no-op) as its own process over a queue of its own, of
/// the gateway's kind: durable quorum queue, persistent messages of the same bodies (AbsenceReported as schools send
/// it), prefetch 32. Warm-up first, then the measured drain, then a paced phase at half the measured rate.
/// </summary>
internal sealed class ReferenceConsumers(LoadOptions options, CpuSampler sampler, TimeProvider time)
{
    public const string RawLabel = "RabbitMQ.Client, ack only";
    public const string MassTransitLabel = "MassTransit 8.5.12, no-op";

    public async Task<Row> RunAsync(int run, string kind, string label)
    {
        var queue = $"load.{kind}";
        var broker = LoadSettings.Broker();
        await using var publisher = await BulkPublisher.ConnectAsync(broker);
        await publisher.Channel.QueueDeleteAsync(queue);
        await publisher.Channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        var generator = new SampleEventGenerator(Random.Shared.Next(), time);
        LoadMessage Next() => Message(queue, generator.NextAbsenceReported());
        var warm = options.Warmup;
        var measured = options.Events;
        var paced = options.PacedEvents;
        Progress.Line($"{label}: filling {queue} with {warm + measured:N0} messages");
        await BulkPublisher.PublishAsync(Enumerable.Range(0, warm + measured).Select(_ => (publisher, Next())), time);

        var marks = new[] { warm, warm + measured, warm + measured + paced };
        var reached = new Dictionary<int, DateTimeOffset>();
        var latencies = new Dictionary<int, Latency>();
        double peak = 0;
        var markSeen = marks.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        void OnLine(string line)
        {
            var parts = line.Split(' ');
            switch (parts[0])
            {
                case "mark":
                    var count = int.Parse(parts[1], CultureInfo.InvariantCulture);
                    reached[count] = BulkPublisher.FromUnixMicroseconds(long.Parse(parts[2], CultureInfo.InvariantCulture));
                    markSeen[Array.IndexOf(marks, count)].TrySetResult();
                    break;
                case "latency":
                    var v = parts[2..].Select(p => long.Parse(p, CultureInfo.InvariantCulture) / 1000.0).ToArray();
                    latencies[int.Parse(parts[1], CultureInfo.InvariantCulture)] = new Latency(v[0], v[1], v[2], v[3], 0);
                    break;
                case "peak":
                    peak = double.Parse(parts[1], CultureInfo.InvariantCulture);
                    break;
            }
        }

        using var child = LoadSettings.Start(typeof(LoadReport).Assembly.Location, ["consume", kind, queue, string.Join(',', marks)],
            new Dictionary<string, string>(), Path.Combine(options.Output, $"{kind}-{run}.log"), OnLine);
        var pid = child.Id;
        var watched = $"{kind}-{run}";
        sampler.Watch(watched, () => ProcessCpu.Seconds(pid));
        await DriveAsync(child, async () =>
        {
            await WaitAsync(markSeen[1].Task, child, label);
            var seconds = (reached[marks[1]] - reached[marks[0]]).TotalSeconds;
            var rate = measured / seconds;
            Progress.Line($"{label}: {measured:N0} drained at {rate:N0}/s; now {paced:N0} more at half that rate");
            await BulkPublisher.PublishAsync(Enumerable.Range(0, paced).Select(_ => (publisher, Next())), time, pace: i => TimeSpan.FromSeconds(i / (rate / 2)));
            await WaitAsync(markSeen[2].Task, child, label);
        });

        var from = reached[marks[0]];
        var to = reached[marks[1]];
        double PerMessage(string process) => (sampler.Between(process, from, to) ?? double.NaN) * 1e6 / measured;
        var window = (to - from).TotalSeconds;
        return new Row
        {
            Run = run,
            Consumer = label,
            Workload = "AbsenceReported, ack only",
            Messages = measured,
            Seconds = window,
            CpuMicrosPerMessage = new() { ["consumer"] = PerMessage(watched), ["rabbitmq"] = PerMessage("rabbitmq"), ["postgres"] = PerMessage("postgres") },
            PeakRssMiB = peak,
            BusyShare = sampler.Share("machine", from, to),
            StealShare = sampler.Share("steal", from, to),
            Drain = latencies[1] with { Count = measured },
            Paced = latencies[2] with { Count = paced },
            PacedRate = measured / window / 2,
            Accounting = $"{marks[^1]:N0} messages acknowledged",
        };
    }

    static LoadMessage Message(string queue, Contracts.AbsenceReported e) =>
        new("", queue, JsonSerializer.SerializeToUtf8Bytes(e, EventJsonContext.Default.AbsenceReported), nameof(Contracts.AbsenceReported), e.EventId);

    static async Task WaitAsync(Task mark, Process child, string label)
    {
        var exited = child.WaitForExitAsync();
        if (await Task.WhenAny(mark, exited, Task.Delay(TimeSpan.FromMinutes(10))) != mark)
        {
            throw new InvalidOperationException($"{label}: the consumer {(child.HasExited ? $"exited ({child.ExitCode})" : "stalled")} before the mark; see its log in the output folder");
        }
    }

    /// <summary>Runs <paramref name="drive"/>, then waits for the child to exit with its last lines read.</summary>
    static async Task DriveAsync(Process child, Func<Task> drive)
    {
        await drive();
        await child.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        child.WaitForExit(); // the last lines (latency, rss) are read before the process is reported gone
    }
}
