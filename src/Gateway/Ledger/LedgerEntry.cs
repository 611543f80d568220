using System.Security.Cryptography;
using System.Text.Json;

namespace IntegrationGateway.Gateway.Ledger;

/// <summary>The kinds of ledger entry.</summary>
public static class LedgerKinds
{
    /// <summary>A decision for one (event × agreement), with its first outcome: one per pair.</summary>
    public const string Decision = "decision";

    /// <summary>A later outcome of a decided transfer (a parked one delivered, a message delivered again).</summary>
    public const string Outcome = "outcome";

    /// <summary>A purge under retention: which entries it blanked, and a digest of their hashes.</summary>
    public const string Purge = "purge";

    /// <summary>An entry blanked by a purge: only its place in the chain (sequence, time, hashes) is kept.</summary>
    public const string Purged = "purged";
}

/// <summary>
/// One line of the ledger: a decision for one (event × agreement), or a later outcome of that transfer. Names of
/// fields, hashes, codes and a pseudonym: never a value about the person.
/// </summary>
public sealed record LedgerEntry
{
    public long Seq { get; init; }
    public DateTimeOffset RecordedAt { get; init; }

    /// <summary>One of <see cref="LedgerKinds"/>.</summary>
    public required string Kind { get; init; }
    public required Guid EventId { get; init; }
    public required string EventType { get; init; }

    /// <summary>The controller the event was authenticated as from: whose record of processing the entry belongs to.</summary>
    public required string Controller { get; init; }

    /// <summary>The sending institution's id, as the event named it (one of the controller's identifiers).</summary>
    public required string Sender { get; init; }
    public required string AgreementId { get; init; }
    public required int AgreementVersion { get; init; }

    /// <summary>The hash of the agreement's exact content (<c>sha256:...</c>) the entry was made under; null on entries from before hashes.</summary>
    public string? AgreementHash { get; init; }
    public required string Recipient { get; init; }

    /// <summary>GDPR article and national instrument, as the agreement states them.</summary>
    public required string LegalBasis { get; init; }

    /// <summary><c>delivered</c>, <c>blocked</c>, <c>parked</c>, <c>rejected</c>, <c>held</c> (route disabled).</summary>
    public required string Outcome { get; init; }
    public IReadOnlyList<string> Reasons { get; init; } = [];
    public IReadOnlyList<string> Disclosed { get; init; } = [];
    public IReadOnlyList<string> Withheld { get; init; } = [];

    /// <summary>SHA-256 of the exact bytes sent to the recipient, when something was sent.</summary>
    public byte[]? PayloadSha256 { get; init; }
    public string? IdempotencyKey { get; init; }
    public int Attempts { get; init; }
    public int? StatusCode { get; init; }
    public string? Receipt { get; init; }
    public string? TraceId { get; init; }

    /// <summary>How long the delivery took (the adapter's call, retries in process included), when one was made.</summary>
    public int? DurationMs { get; init; }
    /// <summary>
    /// The subject's pseudonyms, one per key the event names them by (BSN or rijksregisternummer, and the sender's
    /// own number), most specific first; empty when the event names no subject.
    /// </summary>
    public required IReadOnlyList<byte[]> SubjectPseudonyms { get; init; }
    /// <summary>On a purge entry: the sequence ranges it blanked, e.g. <c>1-40</c>, <c>45</c>.</summary>
    public IReadOnlyList<string>? PurgedRanges { get; init; }

    /// <summary>On a purge entry: SHA-256 over the sequence (8 bytes, big-endian) and hash of each entry it blanked, in order.</summary>
    public byte[]? PurgedDigest { get; init; }

    public byte[] PreviousHash { get; init; } = [];
    public byte[] Hash { get; init; } = [];

    /// <summary>What the hash cannot cover, as read back: only a purge entry carries purge columns.</summary>
    public bool Consistent => Kind == LedgerKinds.Purge || (PurgedRanges is null && PurgedDigest is null);

    /// <summary>An entry about no event, no agreement and no person: what the ledger records of itself (a purge, a blanked place).</summary>
    public static LedgerEntry OfTheLedger(string kind, string outcome) => new()
    {
        Kind = kind,
        EventId = Guid.Empty,
        EventType = "",
        Controller = "",
        Sender = "",
        AgreementId = "",
        AgreementVersion = 0,
        Recipient = "",
        LegalBasis = "",
        Outcome = outcome,
        SubjectPseudonyms = [],
    };

    /// <summary>What is left of an entry blanked by a purge: its place in the chain and nothing else.</summary>
    public static LedgerEntry Blank(LedgerEntry entry) => OfTheLedger(LedgerKinds.Purged, "") with
    {
        Seq = entry.Seq,
        RecordedAt = entry.RecordedAt,
        PreviousHash = entry.PreviousHash,
        Hash = entry.Hash,
    };

    /// <summary>
    /// The entry as the chain hashes it: every column in a fixed order, times to the microsecond (what PostgreSQL
    /// keeps), binary values in hex. Changing any stored column changes this, and with it the hash.
    /// </summary>
    public byte[] Canonical()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("seq", Seq);
            json.WriteString("recordedAt", ToMicroseconds(RecordedAt).ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("kind", Kind);
            json.WriteString("eventId", EventId);
            json.WriteString("eventType", EventType);
            json.WriteString("controller", Controller);
            json.WriteString("sender", Sender);
            json.WriteString("agreementId", AgreementId);
            json.WriteNumber("agreementVersion", AgreementVersion);
            if (AgreementHash is not null)
            {
                // Only when there is one, so entries written before there could be keep their form.
                json.WriteString("agreementHash", AgreementHash);
            }

            json.WriteString("recipient", Recipient);
            json.WriteString("legalBasis", LegalBasis);
            json.WriteString("outcome", Outcome);
            WriteList(json, "reasons", Reasons);
            WriteList(json, "disclosed", Disclosed);
            WriteList(json, "withheld", Withheld);
            json.WriteString("payloadSha256", PayloadSha256 is null ? null : Convert.ToHexStringLower(PayloadSha256));
            json.WriteString("idempotencyKey", IdempotencyKey);
            json.WriteNumber("attempts", Attempts);
            if (StatusCode is { } status)
            {
                json.WriteNumber("statusCode", status);
            }
            else
            {
                json.WriteNull("statusCode");
            }

            json.WriteString("receipt", Receipt);
            json.WriteString("traceId", TraceId);
            if (DurationMs is { } duration)
            {
                // Only when there is one, so entries written before there could be keep their form.
                json.WriteNumber("durationMs", duration);
            }

            json.WriteString("subject", SubjectPseudonyms.Count > 0 ? Convert.ToHexStringLower(SubjectPseudonyms[0]) : "");
            if (SubjectPseudonyms.Count > 1)
            {
                // Only when there is more than one, so entries written before there could be keep their form.
                WriteList(json, "alsoKnownAs", [.. SubjectPseudonyms.Skip(1).Select(Convert.ToHexStringLower)]);
            }

            if (Kind == LedgerKinds.Purge)
            {
                // Only on purge entries, so the form of every other entry stays as it was.
                WriteList(json, "purgedRanges", PurgedRanges ?? []);
                json.WriteString("purgedDigest", PurgedDigest is null ? null : Convert.ToHexStringLower(PurgedDigest));
            }

            json.WriteString("previousHash", Convert.ToHexStringLower(PreviousHash));
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>A duration as <see cref="DurationMs"/> keeps it.</summary>
    public static int Milliseconds(TimeSpan took) => (int)Math.Min(int.MaxValue, took.TotalMilliseconds);

    public static DateTimeOffset ToMicroseconds(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % 10), TimeSpan.Zero);

    static void WriteList(Utf8JsonWriter json, string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    public static byte[] Sha256(ReadOnlySpan<byte> bytes) => SHA256.HashData(bytes);
}
