using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace IntegrationGateway.AgencySimulator;

/// <summary>One transfer as a recipient saw it: first arrival, and how often it arrived in all.</summary>
public sealed record Receipt(
    string ReceiptId,
    string Recipient,
    string Path,
    string IdempotencyKey,
    DateTimeOffset FirstReceivedAt,
    int Deliveries,
    JsonNode? Body);

/// <summary>
/// What the simulated agencies received. Dedupes on (recipient, idempotency key) the way a careful agency would:
/// a repeated delivery is counted, but has no second effect.
/// </summary>
public sealed class ReceiptStore(TimeProvider time)
{
    readonly ConcurrentDictionary<(string Recipient, string Key), Receipt> _receipts = new();

    public (Receipt Receipt, bool Duplicate) Record(string recipient, string path, string idempotencyKey, JsonNode? body)
    {
        // Under contention a factory may run and lose the race; whichever ran last decided the stored value.
        var duplicate = false;
        var receipt = _receipts.AddOrUpdate(
            (recipient, idempotencyKey),
            _ =>
            {
                duplicate = false;
                return new Receipt(Guid.NewGuid().ToString("N"), recipient, path, idempotencyKey, time.GetUtcNow(), 1, body);
            },
            (_, existing) =>
            {
                duplicate = true;
                return existing with { Deliveries = existing.Deliveries + 1 };
            });
        return (receipt, duplicate);
    }

    public IReadOnlyList<Receipt> List(string? recipient) =>
        _receipts.Values
            .Where(r => recipient is null || r.Recipient == recipient)
            .OrderBy(r => r.FirstReceivedAt)
            .ToList();

    public void Clear() => _receipts.Clear();
}
