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
    JsonNode? Body,
    IReadOnlyList<string> FieldsOutsideAllowList,
    string Format = "json",
    string? ClientCertificate = null,
    string? BodySha256 = null);

/// <summary>
/// One request as it reached a simulated agency, answered or not (a failure, a refusal, a retry): its idempotency key and
/// every header, the bearer token's value left out, so a test can see what each attempt carried.
/// </summary>
public sealed record Attempt(string Recipient, string? IdempotencyKey, IReadOnlyDictionary<string, string> Headers, DateTimeOffset At);

/// <summary>
/// What the simulated agencies received. Dedupes on (recipient, idempotency key) the way a careful agency would:
/// a repeated delivery is counted, but has no second effect. A duplicate <em>effect</em> is the same record (event
/// and agreement) arriving under a new idempotency key: the agency would act on it twice.
/// </summary>
public sealed class ReceiptStore(TimeProvider time)
{
    readonly ConcurrentDictionary<(string Recipient, string Key), Receipt> _receipts = new();
    readonly ConcurrentDictionary<(string Recipient, string Effect), ConcurrentDictionary<string, byte>> _effects = new();
    readonly ConcurrentQueue<Attempt> _attempts = new();

    /// <summary>Notes a request as it arrives, before anything answers it (the last <see cref="MaxAttempts"/> are kept).</summary>
    public void Attempted(string recipient, Microsoft.AspNetCore.Http.IHeaderDictionary headers)
    {
        var copy = headers.ToDictionary(
            h => h.Key.ToLowerInvariant(),
            h => string.Equals(h.Key, "Authorization", StringComparison.OrdinalIgnoreCase) ? "(token)" : h.Value.ToString(),
            StringComparer.Ordinal);
        copy.TryGetValue("idempotency-key", out var key);
        _attempts.Enqueue(new Attempt(recipient, key, copy, time.GetUtcNow()));
        while (_attempts.Count > MaxAttempts && _attempts.TryDequeue(out _))
        {
            // the oldest go: a load run sends hundreds of thousands, a test looks at a few
        }
    }

    /// <summary>How many attempts are kept, newest last.</summary>
    public const int MaxAttempts = 10_000;

    /// <summary>Every request that reached <paramref name="recipient"/> (all, when null), in order of arrival.</summary>
    public IReadOnlyList<Attempt> Attempts(string? recipient) => [.. _attempts.Where(a => recipient is null || a.Recipient == recipient)];

    /// <summary>Records that carried an event already recorded under another idempotency key.</summary>
    public int DuplicateEffects(string recipient) => _effects.Where(e => e.Key.Recipient == recipient).Sum(e => e.Value.Count - 1);

    /// <summary>Records a transfer; <paramref name="bodySha256"/> is the SHA-256 (hex) of the exact bytes received, for a test to compare with what the gateway's ledger keeps.</summary>
    public (Receipt Receipt, bool Duplicate) Record(string recipient, string path, string idempotencyKey, JsonNode? body, IReadOnlyList<string>? fieldsOutside = null, string format = "json", string? clientCertificate = null, string? bodySha256 = null)
    {
        var effect = $"{body?["agreement"]}:{body?["record"]?["eventId"]}";
        _effects.GetOrAdd((recipient, effect), _ => new()).TryAdd(idempotencyKey, 0);
        // Under contention a factory may run and lose the race; whichever ran last decided the stored value.
        var duplicate = false;
        var receipt = _receipts.AddOrUpdate(
            (recipient, idempotencyKey),
            _ =>
            {
                duplicate = false;
                return new Receipt(Guid.NewGuid().ToString("N"), recipient, path, idempotencyKey, time.GetUtcNow(), 1, body, fieldsOutside ?? [], format, clientCertificate, bodySha256);
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

    public void Clear()
    {
        _receipts.Clear();
        _effects.Clear();
        _attempts.Clear();
    }
}
