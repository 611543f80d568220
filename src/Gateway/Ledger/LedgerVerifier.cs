using System.Security.Cryptography;
using Npgsql;

namespace IntegrationGateway.Gateway.Ledger;

/// <summary>The verdict on the chain: how many entries held (of which how many were purged), and the first that did not fit (null when all did).</summary>
public sealed record LedgerVerdict(long Entries, long? BrokenAt, string? Problem, long Purged = 0, byte[]? Head = null)
{
    public bool Intact => BrokenAt is null;
}

/// <summary>
/// Recomputes the chain from the first entry: each must follow the one before (sequence without gaps, its
/// previous-hash equal to that entry's hash) and match its own keyed hash. A changed column, a deleted row and an
/// inserted row each break it, at the entry where it happened.
/// <para>An entry purged under retention keeps its place (sequence and hashes) and nothing else: its own hash cannot be
/// recomputed, but the next entry still names it, and the purge entry that blanked it (keyed like any other) names
/// its sequence and a digest of the hashes it blanked. A blanked entry that no purge entry names, or a purge entry
/// whose digest does not match, breaks the chain.</para>
/// </summary>
public static class LedgerVerifier
{
    /// <summary>Every column of an entry, in the order <see cref="Read"/> takes them.</summary>
    internal const string Columns =
        "seq, recorded_at, kind, event_id, event_type, sender, agreement_id, agreement_version, recipient, legal_basis, outcome, reasons, disclosed, withheld, payload_sha256, idempotency_key, attempts, status_code, receipt, trace_id, subject_pseudonyms, previous_hash, entry_hash, purged_ranges, purged_digest, duration_ms, controller, agreement_hash";

    /// <param name="dataSource">The gateway's database.</param>
    /// <param name="keys">The ledger's keys.</param>
    /// <param name="anchor">An entry's sequence and hash kept outside the database (printed by an earlier verify): the
    /// chain must still hold that entry with that hash, which catches entries cut off its end since.</param>
    /// <param name="cancellationToken">Stops the reading.</param>
    public static async Task<LedgerVerdict> VerifyAsync(NpgsqlDataSource dataSource, LedgerKeys keys, (long Seq, byte[] Hash)? anchor, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM ledger_entry ORDER BY seq");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        long count = 0;
        var expectedSeq = 1L;
        var previous = new byte[32];
        var blanked = new SortedDictionary<long, byte[]>(); // purged entries no purge entry has named yet
        long purged = 0;
        byte[]? anchored = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            var entry = Read(reader);
            if (entry.Seq != expectedSeq)
            {
                return new(count, Math.Min(entry.Seq, expectedSeq),
                    entry.Seq < expectedSeq ? $"entry {entry.Seq} is out of sequence (inserted?)" : $"entry {expectedSeq} is missing (deleted?); the next is {entry.Seq}");
            }

            if (!CryptographicOperations.FixedTimeEquals(entry.PreviousHash, previous))
            {
                return new(count, entry.Seq, $"entry {entry.Seq} does not follow entry {entry.Seq - 1} (inserted, or the one before was changed?)");
            }

            if (entry.Kind == LedgerKinds.Purged)
            {
                // Its own hash cannot be recomputed; so nothing but its place may be left in it, and a purge entry must name it.
                if (!entry.Consistent || !entry.Canonical().AsSpan().SequenceEqual(LedgerEntry.Blank(entry).Canonical()))
                {
                    return new(count, entry.Seq, $"entry {entry.Seq} is marked purged but holds data (changed after the purge?)");
                }

                blanked[entry.Seq] = entry.Hash;
                purged++;
            }
            else
            {
                if (!CryptographicOperations.FixedTimeEquals(keys.Chain(entry.Canonical()), entry.Hash) || !entry.Consistent)
                {
                    return new(count, entry.Seq, $"entry {entry.Seq} does not match its hash (changed, or written without the ledger key)");
                }

                if (entry.Kind == LedgerKinds.Purge && LedgerPurge.Settle(entry, blanked) is { } problem)
                {
                    return new(count, entry.Seq, problem);
                }
            }

            previous = entry.Hash;
            anchored = anchor?.Seq == entry.Seq ? entry.Hash : anchored;
            expectedSeq++;
            count++;
        }

        if (AnchorProblem(anchor, count, anchored) is { } cut)
        {
            return cut;
        }

        if (blanked.Count > 0)
        {
            var unnamed = blanked.Keys.First();
            return new(unnamed - 1, unnamed, $"entry {unnamed} was blanked, and no purge entry names it");
        }

        return new(count, null, null, purged, previous);
    }

    /// <summary>
    /// Whether a chain of <paramref name="count"/> entries still holds the anchored entry with its hash
    /// (<paramref name="anchored"/>: the hash the chain has at the anchor's sequence); null when it does, or no anchor was given.
    /// </summary>
    internal static LedgerVerdict? AnchorProblem((long Seq, byte[] Hash)? anchor, long count, byte[]? anchored) =>
        anchor is { } expected && (expected.Seq > count || !CryptographicOperations.FixedTimeEquals(anchored ?? [], expected.Hash))
            ? new(count, expected.Seq, expected.Seq > count
                ? $"entry {expected.Seq}, anchored outside the database, is gone: the chain ends at {count} (entries cut off its end?)"
                : $"entry {expected.Seq} does not have the anchored hash (the chain was rewritten from there?)")
            : null;

    /// <summary>One row of <see cref="Columns"/> as an entry, its stored hash in <see cref="LedgerEntry.Hash"/>.</summary>
    internal static LedgerEntry Read(NpgsqlDataReader reader) => new()
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
        Hash = reader.GetFieldValue<byte[]>(22),
        PurgedRanges = reader.IsDBNull(23) ? null : reader.GetFieldValue<string[]>(23),
        PurgedDigest = reader.IsDBNull(24) ? null : reader.GetFieldValue<byte[]>(24),
        DurationMs = reader.IsDBNull(25) ? null : reader.GetInt32(25),
        Controller = reader.GetString(26),
        AgreementHash = reader.IsDBNull(27) ? null : reader.GetString(27),
    };
}
