using System.Security.Cryptography;
using Npgsql;

namespace IntegrationGateway.Gateway.Ledger;

/// <summary>The verdict on the chain: how many entries held, and the first that did not fit (null when all did).</summary>
public sealed record LedgerVerdict(long Entries, long? BrokenAt, string? Problem)
{
    public bool Intact => BrokenAt is null;
}

/// <summary>
/// Recomputes the chain from the first entry: each must follow the one before (sequence without gaps, its
/// previous-hash equal to that entry's hash) and match its own keyed hash. A changed column, a deleted row and an
/// inserted row each break it, at the entry where it happened.
/// </summary>
public static class LedgerVerifier
{
    public static async Task<LedgerVerdict> VerifyAsync(NpgsqlDataSource dataSource, LedgerKeys keys, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT seq, recorded_at, kind, event_id, event_type, sender, agreement_id, agreement_version, recipient, legal_basis, outcome, reasons, disclosed, withheld, payload_sha256, idempotency_key, attempts, status_code, receipt, trace_id, subject_pseudonyms, previous_hash, entry_hash, subject_pseudonym FROM ledger_entry ORDER BY seq");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        long count = 0;
        var expectedSeq = 1L;
        var previous = new byte[32];
        while (await reader.ReadAsync(cancellationToken))
        {
            var entry = new LedgerEntry
            {
                Seq = reader.GetInt64(0),
                RecordedAt = reader.GetFieldValue<DateTimeOffset>(1),
                Kind = reader.GetString(2),
                EventId = reader.GetGuid(3),
                EventType = reader.GetString(4),
                Sender = reader.GetString(5),
                AgreementId = reader.GetString(6),
                AgreementVersion = reader.GetInt32(7),
                Recipient = reader.GetString(8),
                LegalBasis = reader.GetString(9),
                Outcome = reader.GetString(10),
                Reasons = reader.GetFieldValue<string[]>(11),
                Disclosed = reader.GetFieldValue<string[]>(12),
                Withheld = reader.GetFieldValue<string[]>(13),
                PayloadSha256 = reader.IsDBNull(14) ? null : reader.GetFieldValue<byte[]>(14),
                IdempotencyKey = reader.IsDBNull(15) ? null : reader.GetString(15),
                Attempts = reader.GetInt32(16),
                StatusCode = reader.IsDBNull(17) ? null : reader.GetInt32(17),
                Receipt = reader.IsDBNull(18) ? null : reader.GetString(18),
                TraceId = reader.IsDBNull(19) ? null : reader.GetString(19),
                SubjectPseudonyms = reader.GetFieldValue<byte[][]>(20),
                PreviousHash = reader.GetFieldValue<byte[]>(21),
            };
            var stored = reader.GetFieldValue<byte[]>(22);

            if (entry.Seq != expectedSeq)
            {
                return new(count, entry.Seq < expectedSeq ? entry.Seq : expectedSeq,
                    entry.Seq < expectedSeq ? $"entry {entry.Seq} is out of sequence (inserted?)" : $"entry {expectedSeq} is missing (deleted?); the next is {entry.Seq}");
            }

            if (!CryptographicOperations.FixedTimeEquals(entry.PreviousHash, previous))
            {
                return new(count, entry.Seq, $"entry {entry.Seq} does not follow entry {entry.Seq - 1} (inserted, or the one before was changed?)");
            }

            // The single column queries index; it must be the first of the pseudonyms the hash covers.
            var first = reader.GetFieldValue<byte[]>(23);
            if (!CryptographicOperations.FixedTimeEquals(keys.Chain(entry.Canonical()), stored)
                || !first.AsSpan().SequenceEqual(entry.SubjectPseudonyms.Count > 0 ? entry.SubjectPseudonyms[0] : []))
            {
                return new(count, entry.Seq, $"entry {entry.Seq} does not match its hash (changed, or written without the ledger key)");
            }

            previous = stored;
            expectedSeq++;
            count++;
        }

        return new(count, null, null);
    }
}
