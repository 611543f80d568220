using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>How a transfer to one recipient was settled.</summary>
public enum TransferOutcome
{
    Delivered,
    Blocked,

    /// <summary>Refused by the recipient (4xx); kept for an operator.</summary>
    Failed,

    /// <summary>Not delivered yet: parked durably for the scheduler, or held while the route is disabled.</summary>
    Parked,
}

/// <summary>
/// In-process counts of settled events and transfers since start, for the demo's summary and the ops
/// summary endpoint. Holds recipient ids and counts only, never anything about a person. Published as metrics too,
/// on the meter <see cref="MeterName"/>: <c>gateway.transfers</c> (recipient, outcome) and
/// <c>gateway.delivery.duration</c> (recipient, outcome; seconds, retries in process included).
/// </summary>
public sealed class TransferCounters
{
    public const string MeterName = "IntegrationGateway.Transfers";

    readonly ConcurrentDictionary<(string Recipient, TransferOutcome Outcome), long> _transfers = new();
    readonly Counter<long>? _transferCounter;
    readonly Histogram<double>? _latency;
    long _eventsSettled;
    long _eventsUnrouted;

    public TransferCounters()
    {
    }

    public TransferCounters(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _transferCounter = meter.CreateCounter<long>("gateway.transfers", "{transfer}", "Transfers settled, by recipient and outcome.");
        _latency = meter.CreateHistogram<double>("gateway.delivery.duration", "s", "How long a delivery to a recipient took, retries in process included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
    }

    /// <summary>How long one delivery took (the adapter's call, retries in process included), by its outcome.</summary>
    public void Delivered(string recipient, TransferOutcome outcome, TimeSpan took) =>
        _latency?.Record(took.TotalSeconds, Tag("recipient", recipient), Tag("outcome", Name(outcome)));

    static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);

    static string Name(TransferOutcome outcome) => outcome switch
    {
        TransferOutcome.Delivered => "delivered",
        TransferOutcome.Blocked => "blocked",
        TransferOutcome.Failed => "failed",
        _ => "parked",
    };

    void Count((string Recipient, TransferOutcome Outcome) transfer)
    {
        _transfers.AddOrUpdate(transfer, 1, static (_, count) => count + 1);
        _transferCounter?.Add(1, Tag("recipient", transfer.Recipient), Tag("outcome", Name(transfer.Outcome)));
    }

    /// <summary>Raised with the event's id when an event is settled (for the demo, which waits for its own events).</summary>
    public event Action<Guid>? EventSettled;

    public void Settled(Guid eventId, IReadOnlyList<(string Recipient, TransferOutcome Outcome)> transfers)
    {
        foreach (var transfer in transfers)
        {
            Count(transfer);
        }

        if (transfers.Count == 0)
        {
            Interlocked.Increment(ref _eventsUnrouted);
        }

        Interlocked.Increment(ref _eventsSettled);
        EventSettled?.Invoke(eventId);
    }

    /// <summary>A parked transfer settled later by the scheduler: counted per recipient, not as a new event.</summary>
    public void SettledLater(string recipient, TransferOutcome outcome) => Count((recipient, outcome));

    public CountersSnapshot Snapshot() => new(
        Interlocked.Read(ref _eventsSettled),
        Interlocked.Read(ref _eventsUnrouted),
        _transfers.ToDictionary(kv => kv.Key, kv => kv.Value));
}

public sealed record CountersSnapshot(
    long EventsSettled,
    long EventsUnrouted,
    IReadOnlyDictionary<(string Recipient, TransferOutcome Outcome), long> Transfers)
{
    public long Count(string recipient, TransferOutcome outcome) =>
        Transfers.TryGetValue((recipient, outcome), out var count) ? count : 0;

    public IEnumerable<string> Recipients => Transfers.Keys.Select(k => k.Recipient).Distinct().Order(StringComparer.Ordinal);

    /// <summary>What happened between an earlier snapshot and this one.</summary>
    public CountersSnapshot Since(CountersSnapshot earlier) => new(
        EventsSettled - earlier.EventsSettled,
        EventsUnrouted - earlier.EventsUnrouted,
        Transfers.ToDictionary(kv => kv.Key, kv => kv.Value - (earlier.Transfers.TryGetValue(kv.Key, out var before) ? before : 0)));
}
