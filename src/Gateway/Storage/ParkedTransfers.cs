using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Sealing;
using Npgsql;
using NpgsqlTypes;

namespace IntegrationGateway.Gateway.Storage;

/// <summary>Why a transfer waits in <c>parked_transfer</c>.</summary>
public static class ParkedState
{
    /// <summary>The recipient failed transiently; the scheduler tries again at <c>next_attempt_at</c>.</summary>
    public const string Waiting = "waiting";

    /// <summary>The recipient refused it (4xx): kept for an operator to look at and replay.</summary>
    public const string Rejected = "rejected";

    /// <summary>The recipient's route is disabled (410 Gone, or by hand); released when it is enabled again.</summary>
    public const string RecipientDisabled = "recipient-disabled";

    /// <summary>Its agreement's content is not approved (yet); released when the DPO approves it (<c>policy approve</c>).</summary>
    public const string AwaitingApproval = "awaiting-approval";
}

/// <summary>The decision a transfer was made under, as the ledger records it.</summary>
/// <param name="Controller">The controller the event was authenticated as from (its registry id).</param>
/// <param name="Sender">The institution that sent the event.</param>
/// <param name="AgreementVersion">The version of the agreement decided under.</param>
/// <param name="LegalBasis">The ground as the ledger writes it.</param>
/// <param name="SubjectPseudonyms">One per key the event names its subject by, most specific first (see <see cref="Policy.SubjectKey"/>).</param>
public sealed record DecisionContext(string Controller, string Sender, int AgreementVersion, string LegalBasis, byte[][] SubjectPseudonyms)
{
    public static readonly DecisionContext None = new("", "", 0, "", []);

    /// <summary>The hash of the agreement's content the transfer goes under: set when decided, and again when decided before a later attempt (not stored).</summary>
    public string? AgreementHash { get; init; }
}

/// <summary>A transfer kept in PostgreSQL; its payload sealed, so the table holds no readable personal data.</summary>
public sealed record ParkedTransfer(
    OutboundTransfer Transfer,
    string Recipient,
    string State,
    int Attempts,
    DateTimeOffset NextAttemptAt,
    int? LastStatus,
    string? LastProblem)
{
    /// <summary>The claim this row was taken under by the scheduler; its updates count only while the lease is theirs.</summary>
    public Guid? LeaseId { get; init; }

    /// <summary>What a later outcome's ledger entry repeats from the decision (no personal value: a pseudonym).</summary>
    public DecisionContext Context { get; init; } = DecisionContext.None;

    /// <summary>What the sealed payload is bound to: the same bytes under another transfer or recipient do not open.</summary>
    public static byte[] SealedFor(string idempotencyKey, string recipient) => System.Text.Encoding.UTF8.GetBytes($"{idempotencyKey}|{recipient}");
}

/// <summary>
/// Transfers that could not be delivered now, stored durably before their message is acknowledged. The idempotency
/// key is the primary key: parking the same transfer again updates it, never duplicates it.
/// </summary>
/// <remarks>
/// The transfers this gateway leases name its <see cref="GatewayInstance"/> (when it has one: tools do not lease), so
/// the leases of a gateway that died are taken over at the next round (<see cref="ReclaimAsync"/>).
/// </remarks>
public sealed class ParkedTransfers(NpgsqlDataSource dataSource, Sealer sealer, TimeProvider time, GatewayInstance? instance = null) : ITransferStore
{
    readonly Sealer _sealer = sealer.For(SealingPurposes.ParkedPayload);

    /// <remarks>
    /// A row under a lease that has not run out is left alone: another attempt at the same transfer (the scheduler's,
    /// or a first attempt still in flight) holds it and settles it; overwriting its lease would let a second attempt in.
    /// </remarks>
    public async Task ParkAsync(ParkedTransfer parked, CancellationToken cancellationToken)
    {
        const string sql = """
            INSERT INTO parked_transfer (idempotency_key, event_id, event_type, agreement_id, recipient, payload_sealed, state, attempts, next_attempt_at, parked_at, last_status, last_problem, sealed_with, sender, agreement_version, legal_basis, subject_pseudonyms, controller, lease_id, lease_owner)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, CASE WHEN $19 IS NULL THEN NULL ELSE $20 END)
            ON CONFLICT (idempotency_key) DO UPDATE SET
                payload_sealed = EXCLUDED.payload_sealed, sealed_with = EXCLUDED.sealed_with, state = EXCLUDED.state, lease_id = EXCLUDED.lease_id, lease_owner = EXCLUDED.lease_owner, attempts = parked_transfer.attempts + EXCLUDED.attempts,
                next_attempt_at = EXCLUDED.next_attempt_at, last_status = EXCLUDED.last_status, last_problem = EXCLUDED.last_problem
            WHERE parked_transfer.lease_id IS NULL OR parked_transfer.next_attempt_at <= $10
            """;
        var t = parked.Transfer;
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new() { Value = t.IdempotencyKey });
        command.Parameters.Add(new() { Value = t.EventId });
        command.Parameters.Add(new() { Value = t.EventType });
        command.Parameters.Add(new() { Value = t.AgreementId });
        command.Parameters.Add(new() { Value = parked.Recipient });
        command.Parameters.Add(new() { Value = _sealer.Seal(t.Payload.Span, ParkedTransfer.SealedFor(t.IdempotencyKey, parked.Recipient)) });
        command.Parameters.Add(new() { Value = parked.State });
        command.Parameters.Add(new() { Value = parked.Attempts });
        command.Parameters.Add(new() { Value = parked.NextAttemptAt });
        command.Parameters.Add(new() { Value = time.GetUtcNow() });
        command.Parameters.Add(new() { Value = (object?)parked.LastStatus ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
        command.Parameters.Add(new() { Value = (object?)parked.LastProblem ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = _sealer.KeyId });
        command.Parameters.Add(new() { Value = parked.Context.Sender });
        command.Parameters.Add(new() { Value = parked.Context.AgreementVersion });
        command.Parameters.Add(new() { Value = parked.Context.LegalBasis });
        command.Parameters.Add(new() { Value = parked.Context.SubjectPseudonyms, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        command.Parameters.Add(new() { Value = parked.Context.Controller });
        // A transfer parked while its first attempt is still in flight stays this gateway's until that attempt ends.
        command.Parameters.Add(new() { Value = (object?)parked.LeaseId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new() { Value = (object?)instance?.Id ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Takes up to <paramref name="limit"/> waiting transfers that are due, for <paramref name="lease"/>: their next
    /// attempt moves past the lease, so another gateway (or this one after a crash) takes them only once it expired.
    /// Only those sealed under this gateway's key: after a key change the others wait for a gateway that has theirs.
    /// </summary>
    public async Task<IReadOnlyList<ParkedTransfer>> ClaimDueAsync(int limit, TimeSpan lease, IReadOnlyCollection<string> disabledRecipients, CancellationToken cancellationToken)
    {
        const string sql = """
            UPDATE parked_transfer SET next_attempt_at = $2, lease_id = $6, lease_owner = $7
            WHERE idempotency_key IN (
                SELECT idempotency_key FROM parked_transfer
                WHERE state = 'waiting' AND next_attempt_at <= $1 AND NOT (recipient = ANY($4)) AND sealed_with = ANY($5)
                ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
            RETURNING idempotency_key, event_id, event_type, agreement_id, recipient, payload_sealed, state, attempts, next_attempt_at, last_status, last_problem, sender, agreement_version, legal_basis, subject_pseudonyms, controller
            """;
        var now = time.GetUtcNow();
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new() { Value = now });
        command.Parameters.Add(new() { Value = now + lease });
        command.Parameters.Add(new() { Value = limit });
        command.Parameters.Add(new() { Value = disabledRecipients.ToArray() });
        command.Parameters.Add(new() { Value = _sealer.KeyIds });
        var claim = Guid.NewGuid();
        command.Parameters.Add(new() { Value = claim });
        command.Parameters.Add(new() { Value = (object?)instance?.Id ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        var (rows, unreadable) = await ReadAsync(command, cancellationToken);
        foreach (var key in unreadable)
        {
            // Sealed under this key yet does not open: changed or moved in the database. Kept for an operator, never sent.
            await UpdateAsync(key, ParkedState.Rejected, now, null, "the sealed payload does not open: changed in the database?", claim, cancellationToken);
        }

        return rows.Select(r => r with { LeaseId = claim }).ToList();
    }

    /// <summary>
    /// The leases of gateways that are gone (their advisory lock went with their session: killed, crashed, cut off,
    /// and not seen for <paramref name="grace"/>) become due since they were parked, so the next claims take them
    /// first (they were being sent when their gateway went), and those gateways' rows leave
    /// <c>gateway_instance</c>; also checks that this gateway's own session is alive and stamps it seen. Run by the
    /// scheduler before each claim. Returns how many transfers were taken over.
    /// </summary>
    public async Task<int> ReclaimAsync(TimeSpan grace, CancellationToken cancellationToken)
    {
        if (instance is null)
        {
            return 0;
        }

        await instance.EnsureAliveAsync(cancellationToken);
        await using var command = dataSource.CreateCommand($$"""
            WITH dead AS (
                DELETE FROM gateway_instance g
                WHERE g.id <> $1 AND NOT EXISTS (
                    SELECT 1 FROM pg_locks l
                    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND l.classid::bigint = {{GatewayInstance.LockSpace}} AND l.objid::bigint = g.lock_key)
                  AND g.last_seen_at < now() - $3::interval
                RETURNING g.id)
            UPDATE parked_transfer SET next_attempt_at = LEAST(parked_at, $2), lease_id = NULL, lease_owner = NULL
            WHERE lease_owner IN (SELECT id FROM dead)
            """);
        command.Parameters.Add(new() { Value = instance.Id });
        command.Parameters.Add(new() { Value = time.GetUtcNow() });
        command.Parameters.Add(new() { Value = grace });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Delivered at last: it leaves the table (under <paramref name="lease"/> only while that lease is still the row's).</summary>
    public async Task RemoveAsync(string idempotencyKey, CancellationToken cancellationToken, Guid? lease = null)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM parked_transfer WHERE idempotency_key = $1 AND ($2::uuid IS NULL OR lease_id = $2)");
        command.Parameters.Add(new() { Value = idempotencyKey });
        command.Parameters.Add(new() { Value = (object?)lease ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// After an attempt that did not deliver: its new state, when to try next, and why; ignored when the row's lease
    /// has passed to another claim (a scheduler that took too long must not overwrite newer news).
    /// </summary>
    public async Task HoldAsync(string idempotencyKey, string state, string problem, Guid lease, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE parked_transfer SET state = $2, last_problem = $3, lease_id = NULL, lease_owner = NULL WHERE idempotency_key = $1 AND lease_id = $4");
        command.Parameters.Add(new() { Value = idempotencyKey });
        command.Parameters.Add(new() { Value = state });
        command.Parameters.Add(new() { Value = problem });
        command.Parameters.Add(new() { Value = lease });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task UpdateAsync(string idempotencyKey, string state, DateTimeOffset nextAttemptAt, int? status, string? problem, Guid lease, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE parked_transfer SET state = $2, attempts = attempts + 1, next_attempt_at = $3, last_status = $4, last_problem = $5, lease_id = NULL, lease_owner = NULL WHERE idempotency_key = $1 AND lease_id = $6");
        command.Parameters.Add(new() { Value = idempotencyKey });
        command.Parameters.Add(new() { Value = state });
        command.Parameters.Add(new() { Value = nextAttemptAt });
        command.Parameters.Add(new() { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
        command.Parameters.Add(new() { Value = (object?)problem ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = lease });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Gives back claimed rows not tried (their recipient is failing): due again at <paramref name="nextAttemptAt"/>.</summary>
    public async Task GiveBackAsync(IEnumerable<string> idempotencyKeys, Guid lease, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("UPDATE parked_transfer SET next_attempt_at = $3, lease_id = NULL, lease_owner = NULL WHERE idempotency_key = ANY($1) AND lease_id = $2");
        command.Parameters.Add(new() { Value = idempotencyKeys.ToArray() });
        command.Parameters.Add(new() { Value = lease });
        command.Parameters.Add(new() { Value = nextAttemptAt });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// An operator's replay: the transfers (waiting, refused, or held while their route was disabled) become due now,
    /// for the scheduler, which decides each again as of now before it sends it. Not those being tried at this moment
    /// (leased), nor those of a recipient whose route is disabled: enabling it releases them. Returns the keys taken.
    /// </summary>
    public async Task<IReadOnlyList<string>> ReplayAsync(IReadOnlyCollection<string> idempotencyKeys, CancellationToken cancellationToken)
    {
        // The routes as the database has them now (not a cache): a route disabled a moment ago keeps its transfers.
        await using var command = dataSource.CreateCommand("""
            UPDATE parked_transfer SET state = 'waiting', next_attempt_at = $2, lease_id = NULL, lease_owner = NULL
            WHERE idempotency_key = ANY($1)
              AND recipient NOT IN (SELECT recipient FROM recipient_route WHERE disabled_at IS NOT NULL)
              AND NOT (lease_id IS NOT NULL AND state = 'waiting' AND next_attempt_at > $2)
            RETURNING idempotency_key
            """);
        command.Parameters.Add(new() { Value = idempotencyKeys.ToArray() });
        command.Parameters.Add(new() { Value = time.GetUtcNow() });
        var replayed = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            replayed.Add(reader.GetString(0));
        }

        return replayed;
    }

    /// <summary>A recipient enabled again: its held transfers become due now. Returns how many.</summary>
    public Task<int> ReleaseAsync(string recipient, CancellationToken cancellationToken) => ReleaseAsync(dataSource, time, recipient, cancellationToken);

    /// <summary>How many transfers wait, per recipient and state (no payloads).</summary>

    /// <summary>For tools that hold no sealing key: the held transfers of a recipient become due now.</summary>
    public static async Task<int> ReleaseAsync(NpgsqlDataSource dataSource, TimeProvider time, string recipient, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE parked_transfer SET state = 'waiting', next_attempt_at = $2 WHERE recipient = $1 AND state = 'recipient-disabled'");
        command.Parameters.Add(new() { Value = recipient });
        command.Parameters.Add(new() { Value = time.GetUtcNow() });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>For tools that hold no sealing key: how many transfers wait, per recipient and state; only these controllers' when given.</summary>
    public static async Task<IReadOnlyList<(string Recipient, string State, long Count)>> CountsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken, IReadOnlyList<string>? controllers = null)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT recipient, state, count(*) FROM parked_transfer WHERE $1::text[] IS NULL OR controller = ANY($1) GROUP BY recipient, state ORDER BY recipient, state");
        command.Parameters.Add(SqlParameters.TextsOrNull(controllers));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new List<(string, string, long)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            counts.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        }

        return counts;
    }

    async Task<(List<ParkedTransfer> Rows, List<string> Unreadable)> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<ParkedTransfer>();
        var unreadable = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            byte[] payload;
            try
            {
                payload = _sealer.Open(reader.GetFieldValue<byte[]>(5), ParkedTransfer.SealedFor(reader.GetString(0), reader.GetString(4)));
            }
            catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                unreadable.Add(reader.GetString(0));
                continue;
            }

            var transfer = new OutboundTransfer(reader.GetString(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), payload);
            rows.Add(new ParkedTransfer(
                transfer,
                reader.GetString(4),
                reader.GetString(6),
                reader.GetInt32(7),
                reader.GetFieldValue<DateTimeOffset>(8),
                reader.IsDBNull(9) ? null : reader.GetInt32(9),
                reader.IsDBNull(10) ? null : reader.GetString(10))
            {
                Context = new DecisionContext(reader.GetString(15), reader.GetString(11), reader.GetInt32(12), reader.GetString(13), reader.GetFieldValue<byte[][]>(14)),
            });
        }

        return (rows, unreadable);
    }
}
