using IntegrationGateway.Gateway.Policy;
using Npgsql;

namespace IntegrationGateway.Gateway.Storage;

/// <summary>One agreement text the gateway has loaded: which text was in force when is the approved ones in order of approval.</summary>
public sealed record AgreementVersion(string AgreementId, string Hash, int Version, DateTimeOffset FirstLoadedAt, string? ApprovedBy, DateTimeOffset? ApprovedAt);

/// <summary>
/// Every agreement text ever loaded (<c>agreement_version</c>), by the hash of its canonical content, with who approved
/// it and when. A gateway records the texts it loads at start; <c>policy approve</c> and the ops agreements page approve
/// one, which releases the transfers held for it.
/// </summary>
public sealed class AgreementVersions(NpgsqlDataSource dataSource, TimeProvider time)
{
    /// <summary>Records the texts loaded now (a text seen before keeps its first sighting); with <paramref name="approveAs"/>, approves those not approved yet.</summary>
    public async Task RecordAsync(IEnumerable<Agreement> agreements, string? approveAs, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var batch = dataSource.CreateBatch();
        foreach (var agreement in agreements)
        {
            var command = new NpgsqlBatchCommand("""
                INSERT INTO agreement_version (agreement_id, hash, version, content, first_loaded_at, approved_by, approved_at)
                VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $6::text IS NULL THEN NULL ELSE $5 END)
                ON CONFLICT (agreement_id, hash) DO UPDATE SET approved_by = $6, approved_at = $5
                    WHERE agreement_version.approved_at IS NULL AND $6::text IS NOT NULL
                """);
            command.Parameters.Add(new() { Value = agreement.Id });
            command.Parameters.Add(new() { Value = agreement.Hash });
            command.Parameters.Add(new() { Value = agreement.Version });
            command.Parameters.Add(new() { Value = agreement.Canonical });
            command.Parameters.Add(new() { Value = now });
            command.Parameters.Add(new() { Value = (object?)approveAs ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            batch.BatchCommands.Add(command);
        }

        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>Who approves a text when <c>Agreements:ApproveOnLoad</c> is on (synthetic data only).</summary>
    public const string ApprovedOnLoad = "approve-on-load";

    /// <summary>
    /// The hashes approved, of any agreement. Those approved on load count only where approving on load is on (the
    /// Development environment): a Development gateway once pointed at this database approves nothing for the others.
    /// </summary>
    public async Task<IReadOnlyList<string>> ApprovedAsync(CancellationToken cancellationToken, bool approvedOnLoadCounts = false)
    {
        await using var command = dataSource.CreateCommand("SELECT hash FROM agreement_version WHERE approved_at IS NOT NULL AND (approved_by <> $1 OR $2)");
        command.Parameters.Add(new() { Value = ApprovedOnLoad });
        command.Parameters.Add(new() { Value = approvedOnLoadCounts });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var hashes = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            hashes.Add(reader.GetString(0));
        }

        return hashes;
    }

    /// <summary>
    /// Approves the text of <paramref name="agreementId"/> with <paramref name="hash"/>, as <paramref name="by"/>, and makes
    /// its held transfers due now. False when no such text was ever loaded; an approved one stays approved as it was.
    /// </summary>
    public async Task<(bool Known, bool AlreadyApproved, int Released)> ApproveAsync(string agreementId, string hash, string by, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        bool? before;
        await using (var select = new NpgsqlCommand("SELECT approved_at IS NOT NULL FROM agreement_version WHERE agreement_id = $1 AND hash = $2 FOR UPDATE", connection, transaction))
        {
            select.Parameters.Add(new() { Value = agreementId });
            select.Parameters.Add(new() { Value = hash });
            before = (bool?)await select.ExecuteScalarAsync(cancellationToken);
        }

        if (before is null)
        {
            return (false, false, 0);
        }

        if (before == false)
        {
            await using var approve = new NpgsqlCommand("UPDATE agreement_version SET approved_by = $3, approved_at = $4 WHERE agreement_id = $1 AND hash = $2", connection, transaction);
            approve.Parameters.Add(new() { Value = agreementId });
            approve.Parameters.Add(new() { Value = hash });
            approve.Parameters.Add(new() { Value = by });
            approve.Parameters.Add(new() { Value = now });
            await approve.ExecuteNonQueryAsync(cancellationToken);
        }

        var released = await ReleaseAsync(connection, transaction, [agreementId], now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (true, before == true, released);
    }

    /// <summary>The held transfers of these agreements become due now (each is decided again, approval included, before it is sent).</summary>
    public async Task<int> ReleaseAsync(IReadOnlyCollection<string> agreementIds, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ReleaseAsync(connection, null, agreementIds, time.GetUtcNow(), cancellationToken);
    }

    static async Task<int> ReleaseAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyCollection<string> agreementIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var release = new NpgsqlCommand(
            $"UPDATE parked_transfer SET state = '{ParkedState.Waiting}', next_attempt_at = $2 WHERE state = '{ParkedState.AwaitingApproval}' AND agreement_id = ANY($1)", connection, transaction);
        release.Parameters.Add(new() { Value = agreementIds.ToArray() });
        release.Parameters.Add(new() { Value = now });
        return await release.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Every text of the agreement loaded, in the order first seen.</summary>
    public async Task<IReadOnlyList<AgreementVersion>> HistoryAsync(string agreementId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT agreement_id, hash, version, first_loaded_at, approved_by, approved_at FROM agreement_version WHERE agreement_id = $1 ORDER BY first_loaded_at, hash");
        command.Parameters.Add(new() { Value = agreementId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var versions = new List<AgreementVersion>();
        while (await reader.ReadAsync(cancellationToken))
        {
            versions.Add(new(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5)));
        }

        return versions;
    }
}
