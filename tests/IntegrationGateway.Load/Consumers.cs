using IntegrationGateway.Testing;
using System.Globalization;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Intake;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace IntegrationGateway.Load;

/// <summary>
/// The two reference consumers, each run as a process of its own so its CPU is its own: a raw RabbitMQ.Client consumer
/// that only acknowledges, and a MassTransit 8.5 consumer that does nothing with the message. Both drain the same kind of
/// queue the gateway does (durable quorum, persistent messages, manual acknowledgement, prefetch 32). The child tells
/// the harness on standard output when it reached each mark (<c>mark K unix-µs</c>), and at the end the latency of each
/// phase between marks (<c>latency I p50 p95 p99 max</c>, microseconds).
/// </summary>
internal static class Consumers
{
    public const int Prefetch = 32;

    /// <summary><c>consume raw|masstransit QUEUE MARK,MARK,...</c></summary>
    public static async Task<int> RunAsync(string kind, string queue, int[] marks)
    {
        var probe = new Probe(marks, TimeProvider.System);
        var broker = LoadSettings.Broker();
        if (kind == "raw")
        {
            await RawAsync(broker, queue, probe);
        }
        else
        {
            await MassTransitAsync(broker, queue, probe);
        }

        probe.Report(Console.Out);
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rss {Environment.WorkingSet / 1048576.0:0.0}"));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak {System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0.0}"));
        return 0;
    }

    static async Task RawAsync(RabbitMqOptions broker, string queue, Probe probe)
    {
        await using var connection = await RabbitMqConnections.OpenAsync(broker, "load-raw-consumer", CancellationToken.None);
        await using var channel = await connection.CreateChannelAsync();
        await channel.BasicQosAsync(0, Prefetch, global: false);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
            probe.Settled(PublishedOf(delivery.BasicProperties.Headers));
        };
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer);
        await probe.Done;
    }

    static async Task MassTransitAsync(RabbitMqOptions broker, string queue, Probe probe)
    {
        var services = new ServiceCollection();
        services.AddSingleton(probe);
        services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            x.AddConsumer<NoOpConsumer>();
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(broker);
                // The same raw JSON the gateway's publishers send, read as the contract it is.
                cfg.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);
                cfg.ReceiveEndpoint(queue, e =>
                {
                    e.SetQuorumQueue();
                    e.PrefetchCount = Prefetch;
                    e.ConfigureConsumeTopology = false;
                    e.ConfigureConsumer<NoOpConsumer>(context);
                });
            });
        });
        await using var provider = services.BuildServiceProvider();
        var bus = provider.GetRequiredService<IBusControl>();
        await bus.StartAsync();
        try
        {
            await probe.Done;
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    static long PublishedOf(IDictionary<string, object?>? headers) =>
        headers is not null && headers.TryGetValue(BulkPublisher.PublishedHeader, out var value) && value is long l ? l : 0;

    sealed class NoOpConsumer(Probe probe) : IConsumer<AbsenceReported>
    {
        public Task Consume(ConsumeContext<AbsenceReported> context)
        {
            probe.Settled(context.Headers.Get<long>(BulkPublisher.PublishedHeader) ?? 0);
            return Task.CompletedTask;
        }
    }
}

/// <summary>Counts settled messages, notes the moment of each mark, and keeps each message's latency.</summary>
internal sealed class Probe(int[] marks, TimeProvider time)
{
    readonly long[] _latencies = new long[marks[^1]];
    readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly object _gate = new();
    int _count;
    long _first;

    public Task Done => _done.Task;

    /// <summary>One message settled; <paramref name="published"/> in Unix µs (0 when unknown).</summary>
    public void Settled(long published)
    {
        var now = BulkPublisher.UnixMicroseconds(time.GetUtcNow());
        lock (_gate)
        {
            if (_count >= _latencies.Length)
            {
                return;
            }

            if (_count == 0)
            {
                _first = now;
            }

            // From the later of its publishing and the drain's start: a pre-filled queue's wait, not the harness's set-up.
            _latencies[_count++] = now - Math.Max(published, _first);
            if (Array.IndexOf(marks, _count) >= 0)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mark {_count} {now}"));
                Console.Out.Flush();
            }

            if (_count == _latencies.Length)
            {
                _done.TrySetResult();
            }
        }
    }

    public void Report(TextWriter output)
    {
        var from = 0;
        for (var i = 0; i < marks.Length; i++)
        {
            var phase = _latencies[from..marks[i]];
            Array.Sort(phase);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"latency {i} {Percentiles.Of(phase, 0.50)} {Percentiles.Of(phase, 0.95)} {Percentiles.Of(phase, 0.99)} {(phase.Length > 0 ? phase[^1] : 0)}"));
            from = marks[i];
        }

        output.Flush();
    }
}

internal static class Percentiles
{
    /// <summary>The nearest-rank percentile of sorted values (0 when there are none).</summary>
    public static long Of(long[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
