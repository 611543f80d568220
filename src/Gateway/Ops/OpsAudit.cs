using System.Security.Cryptography;
using System.Text.Json;
using IntegrationGateway.Gateway.Ledger;
using Npgsql;

namespace IntegrationGateway.Gateway.Ops;

/// <summary>One thing a member of staff did, in the ops app or with a verb of the command line.</summary>
public sealed record OpsAuditEntry(DateTimeOffset At, string Actor, string Action, string Target, string Detail);

/// <summary>
/// What staff did, kept in <c>ops_audit</c>: who viewed a subject report (by pseudonym, never the identifier they
/// typed), who replayed which transfers, who disabled or enabled a recipient, who signed in, and which revealing or
/// changing verb of the command line someone ran. Chained and keyed like the ledger: each row's hash (HMAC with a key
/// derived from <c>Ledger:Key</c>, which the database never holds) covers its columns and the hash of the row before,
/// so an admin with SQL alone cannot change, delete or insert a row unnoticed (<see cref="VerifyAsync"/>).
/// </summary>
public sealed class OpsAudit(NpgsqlDataSource dataSource, LedgerKeys keys, TimeProvider time)
{
    /// <summary>Serialises the chain's writers (another number than the ledger's).</summary>
    const long ChainLock = 7352003;

    public static class Actions
    {
        public const string SignedIn = "signed-in";
        public const string SignInRefused = "sign-in-refused";
        public const string SubjectReportViewed = "subject-report-viewed";
        public const string Replayed = "replayed";
        public const string RecipientDisabled = "recipient-disabled";
        public const string RecipientEnabled = "recipient-enabled";
        public const string QuarantineOpened = "quarantine-opened";
        public const string QuarantineRepublished = "quarantine-republished";
        public const string LedgerPurged = "ledger-purged";
        public const string AgreementApproved = "agreement-approved";
    }

    /// <summary>The actor of a command-line verb: the operating-system user who ran it.</summary>
    public static string CommandLineActor => $"cli:{Environment.UserName}";

    /// <param name="actor">Who (a staff user name, or <see cref="CommandLineActor"/>).</param>
    /// <param name="action">One of <see cref="Actions"/>.</param>
    /// <param name="target">What it was done to (a pseudonym's start, an idempotency key, a recipient).</param>
    /// <param name="detail">More, never a value about a person.</param>
    /// <param name="scope">The controllers whose staff may read the row; the platform's (only its staff read it) when <see cref="OpsScope.All"/>.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public async Task RecordAsync(string actor, string action, string target, string detail, OpsScope scope, CancellationToken cancellationToken)
    {
        // PostgreSQL keeps microseconds: the hash covers the time as it will be read back.
        var now = time.GetUtcNow();
        var row = new Row(0, now.AddTicks(-(now.Ticks % 10)), Clean(actor), action, Clean(target), Clean(detail), scope.AuditControllers, []);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var head = new NpgsqlCommand(
            $"SELECT pg_advisory_xact_lock({ChainLock}); SELECT seq, entry_hash FROM ops_audit WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1", connection, transaction))
        await using (var reader = await head.ExecuteReaderAsync(cancellationToken))
        {
            await reader.NextResultAsync(cancellationToken);
            row = await reader.ReadAsync(cancellationToken)
                ? row with { Seq = reader.GetInt64(0) + 1, Previous = reader.GetFieldValue<byte[]>(1) }
                : row with { Seq = 1, Previous = new byte[32] };
        }

        await using (var insert = new NpgsqlCommand(
            "INSERT INTO ops_audit (seq, at, actor, action, target, detail, controllers, previous_hash, entry_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", connection, transaction))
        {
            insert.Parameters.Add(new() { Value = row.Seq });
            insert.Parameters.Add(new() { Value = row.At });
            insert.Parameters.Add(new() { Value = row.Actor });
            insert.Parameters.Add(new() { Value = row.Action });
            insert.Parameters.Add(new() { Value = row.Target });
            insert.Parameters.Add(new() { Value = row.Detail });
            insert.Parameters.Add(Storage.SqlParameters.TextsOrNull(row.Controllers));
            insert.Parameters.Add(new() { Value = row.Previous });
            insert.Parameters.Add(new() { Value = keys.AuditChain(row.Canonical()) });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The latest rows <paramref name="scope"/> may read (all for the platform, else those of its controllers), newest first, optionally of one action, after skipping <paramref name="skip"/>.</summary>
    public async Task<IReadOnlyList<OpsAuditEntry>> LatestAsync(int count, OpsScope scope, CancellationToken cancellationToken, string? action = null, int skip = 0)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT at, actor, action, target, detail FROM ops_audit WHERE ($2::text[] IS NULL OR controllers && $2) AND ($3::text IS NULL OR action = $3) ORDER BY id DESC LIMIT $1 OFFSET $4");
        command.Parameters.Add(new() { Value = count });
        command.Parameters.Add(scope.Parameter());
        command.Parameters.Add(new() { Value = (object?)action ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = skip });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var entries = new List<OpsAuditEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new(reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
        }

        return entries;
    }

    /// <summary>
    /// Recomputes the chain from its first row: sequence without gaps, each row naming the hash of the one before and
    /// matching its own keyed hash. A changed column, a deleted row and an inserted row each break it where they
    /// happened. Rows from before the chain (schema version 12) must all come before it. Rows cut off the end show only
    /// against an anchor, as for the ledger.
    /// </summary>
    /// <param name="anchor">A row's sequence and hash printed by an earlier verify and kept outside the database: the chain must still hold it (catches rows cut off its end).</param>
    /// <param name="cancellationToken">Stops the reading.</param>
    public async Task<LedgerVerdict> VerifyAsync((long Seq, byte[] Hash)? anchor, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT seq, at, actor, action, target, detail, controllers, previous_hash, entry_hash, id FROM ops_audit ORDER BY id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        long count = 0;
        var previous = new byte[32];
        var chained = false;
        byte[]? anchored = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            if (reader.IsDBNull(0) || reader.IsDBNull(7) || reader.IsDBNull(8))
            {
                if (chained)
                {
                    return new(count, count + 1, $"row id {reader.GetInt64(9)} after entry {count} has no place in the chain (inserted?)");
                }

                continue; // from before the chain
            }

            chained = true;
            var row = new Row(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetFieldValue<string[]>(6), reader.GetFieldValue<byte[]>(7));
            var hash = reader.GetFieldValue<byte[]>(8);
            if (row.Seq != count + 1)
            {
                return new(count, Math.Min(row.Seq, count + 1), row.Seq <= count ? $"entry {row.Seq} is out of sequence (inserted?)" : $"entry {count + 1} is missing (deleted?); the next is {row.Seq}");
            }

            if (!CryptographicOperations.FixedTimeEquals(row.Previous, previous))
            {
                return new(count, row.Seq, $"entry {row.Seq} does not follow entry {row.Seq - 1} (inserted, or the one before was changed?)");
            }

            if (!CryptographicOperations.FixedTimeEquals(keys.AuditChain(row.Canonical()), hash))
            {
                return new(count, row.Seq, $"entry {row.Seq} does not match its hash (changed, or written without the ledger key)");
            }

            previous = hash;
            anchored = anchor?.Seq == row.Seq ? hash : anchored;
            count++;
        }

        return LedgerVerifier.AnchorProblem(anchor, count, anchored) ?? new(count, null, null, Head: previous);
    }

    /// <summary>A row as its hash covers it.</summary>
    sealed record Row(long Seq, DateTimeOffset At, string Actor, string Action, string Target, string Detail, string[]? Controllers, byte[] Previous)
    {
        public byte[] Canonical()
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartArray();
                writer.WriteNumberValue(Seq);
                writer.WriteStringValue(At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture));
                writer.WriteStringValue(Actor);
                writer.WriteStringValue(Action);
                writer.WriteStringValue(Target);
                writer.WriteStringValue(Detail);
                if (Controllers is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    writer.WriteStartArray();
                    foreach (var controller in Controllers)
                    {
                        writer.WriteStringValue(controller);
                    }

                    writer.WriteEndArray();
                }

                writer.WriteBase64StringValue(Previous);
                writer.WriteEndArray();
            }

            return buffer.WrittenSpan.ToArray();
        }
    }

    static string Clean(string text) => new(text.Where(c => !char.IsControl(c)).Take(2000).ToArray());
}
