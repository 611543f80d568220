using System.Collections.Concurrent;

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
/// summary endpoint. Holds recipient ids and counts only, never anything about a person.
/// </summary>
public sealed class TransferCounters
{
    readonly ConcurrentDictionary<(string Recipient, TransferOutcome Outcome), long> _transfers = new();
    long _eventsSettled;
    long _eventsUnrouted;

    /// <summary>Raised with the event's id when an event is settled (for the demo, which waits for its own events).</summary>
    public event Action<Guid>? EventSettled;

    public void Settled(Guid eventId, IReadOnlyList<(string Recipient, TransferOutcome Outcome)> transfers)
    {
        foreach (var transfer in transfers)
        {
            _transfers.AddOrUpdate(transfer, 1, static (_, count) => count + 1);
        }

        if (transfers.Count == 0)
        {
            Interlocked.Increment(ref _eventsUnrouted);
        }

        Interlocked.Increment(ref _eventsSettled);
        EventSettled?.Invoke(eventId);
    }

    /// <summary>A parked transfer settled later by the scheduler: counted per recipient, not as a new event.</summary>
    public void SettledLater(string recipient, TransferOutcome outcome) => _transfers.AddOrUpdate((recipient, outcome), 1, static (_, count) => count + 1);

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
