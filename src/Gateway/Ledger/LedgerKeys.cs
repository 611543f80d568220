using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Gateway.Ledger;

/// <summary>
/// The ledger's keys, derived (HKDF-SHA256) from one secret, <c>Ledger:Key</c>, that is never stored in the
/// database: one keys the chain (so rows cannot be rewritten and re-chained by someone who can only write SQL), one
/// keys the subject pseudonyms (so a dump holds no identifier, and a pseudonym cannot be computed without the key),
/// one keys the intake's memory of each event's content (<see cref="ContentOf"/>: a hash of a few low-entropy values,
/// unkeyed, could be reversed by trying them), one keys the staff audit's chain, one keys the transfer reference each
/// recipient gets for an event instead of its id (<see cref="TransferReference"/>).
/// </summary>
public sealed class LedgerKeys
{
    public const string ConfigurationKey = "Ledger:Key";

    readonly byte[] _chain;
    readonly byte[] _pseudonym;
    readonly byte[] _content;
    readonly byte[] _audit;
    readonly byte[] _payload;
    readonly byte[] _reference;

    public LedgerKeys(byte[] secret)
    {
        if (secret.Length < 32)
        {
            throw new ArgumentException("the ledger key must be at least 32 bytes", nameof(secret));
        }

        _chain = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, info: "integration-gateway ledger chain v1"u8.ToArray());
        _pseudonym = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, info: "integration-gateway subject pseudonym v1"u8.ToArray());
        _content = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, info: "integration-gateway event content v1"u8.ToArray());
        _audit = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, info: "integration-gateway ops audit chain v1"u8.ToArray());
        _payload = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, info: "integration-gateway payload digest v1"u8.ToArray());
        _reference = HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, info: "integration-gateway transfer reference v1"u8.ToArray());
    }

    /// <summary>The key from its base64 text; the message says what is wrong and never repeats the text.</summary>
    public static LedgerKeys FromBase64(string? text) => new(Hosting.ConfiguredKey.Decode(
        text, ConfigurationKey, "it keys the ledger's chain and the subjects' pseudonyms", exactly32: false,
        note: " Keep it: without it the ledger cannot be verified."));

    public byte[] Chain(ReadOnlySpan<byte> canonical) => HMACSHA256.HashData(_chain, canonical);

    /// <summary>
    /// What the ledger keeps of the bytes sent (<c>payload_sha256</c>): HMAC of their SHA-256, not the bare hash. A
    /// payload of few, guessable values (a BSN, a date, a code) could otherwise be found by hashing guesses against a
    /// dump; with the key, whoever holds the exact bytes (the recipient) can still have them matched.
    /// </summary>
    public byte[] PayloadDigest(byte[] sha256) => HMACSHA256.HashData(_payload, sha256);

    /// <summary>
    /// The reference <paramref name="recipient"/> gets for event <paramref name="eventId"/>, in place of the event's
    /// id, which every recipient of the event would otherwise share: a keyed pseudonym of (event, recipient), so the
    /// same on every retry, replay and restart (and on every replica with the same key), different for every
    /// recipient, and, without the key, neither reversible to the event nor matchable to another recipient's
    /// reference. The first 16 bytes of HMAC-SHA256 over the event id (16 bytes, RFC 9562 order) and the recipient's
    /// name, as a UUID of version 8 (RFC 9562 section 5.8: custom), so it fits where an agency's system expects a UUID.
    /// </summary>
    public Guid TransferReference(Guid eventId, string recipient)
    {
        var size = 16 + Encoding.UTF8.GetMaxByteCount(recipient.Length);
        Span<byte> input = size <= 512 ? stackalloc byte[size] : new byte[size]; // recipient ids are short; a long one is not refused
        eventId.TryWriteBytes(input, bigEndian: true, out _);
        var length = 16 + Encoding.UTF8.GetBytes(recipient, input[16..]);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_reference, input[..length], mac);
        mac[6] = (byte)((mac[6] & 0x0F) | 0x80); // version 8
        mac[8] = (byte)((mac[8] & 0x3F) | 0x80); // the RFC 9562 variant
        return new Guid(mac[..16], bigEndian: true);
    }

    /// <summary>The staff audit's own chain (<see cref="Ops.OpsAudit"/>): keyed apart from the ledger's, so neither can stand in for the other.</summary>
    public byte[] AuditChain(ReadOnlySpan<byte> canonical) => HMACSHA256.HashData(_audit, canonical);

    /// <summary>
    /// The subject's pseudonym: HMAC over the normalised national identifier (BSN, or rijksregisternummer digits), or
    /// over sender and local id when the event carries neither. One per key the event names its subject by, most specific first; the same key gets the same pseudonym in every entry.
    /// </summary>
    public byte[][] Pseudonyms(JsonElement body) => [.. SubjectKey.Of(body).Select(PseudonymOf)];

    /// <summary>The pseudonym of a subject key (<c>bsn:…</c>, <c>rijksregisternummer:…</c>, <c>local:institution:id</c>, see <see cref="SubjectKey"/>).</summary>
    public byte[] PseudonymOf(string subjectKey) => HMACSHA256.HashData(_pseudonym, Encoding.UTF8.GetBytes(subjectKey));

    /// <summary>
    /// What an event said, as one keyed hash: the controller it came from, its type and its JSON in canonical form
    /// (members sorted by name, no white space, strings escaped one way), so the same event published again, by
    /// MassTransit or as raw JSON, hashes the same, and any changed value, added member or other sender does not.
    /// </summary>
    public byte[] ContentOf(string controller, string eventType, JsonElement body)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            writer.WriteStartArray();
            writer.WriteStringValue(controller);
            writer.WriteStringValue(eventType);
            WriteCanonical(writer, body);
            writer.WriteEndArray();
        }

        return HMACSHA256.HashData(_content, buffer.WrittenSpan);
    }

    static void WriteCanonical(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var member in element.EnumerateObject().OrderBy(m => m.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(member.Name);
                    WriteCanonical(writer, member.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteCanonical(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
