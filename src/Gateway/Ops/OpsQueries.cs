using System.Globalization;
using IntegrationGateway.Gateway.Ledger;
using Npgsql;
using NpgsqlTypes;

namespace IntegrationGateway.Gateway.Ops;

/// <summary>A filter on the transfers list; null members do not filter.</summary>
public sealed record TransferFilter(string? Recipient, string? Outcome, string? EventType, string? Agreement, DateTimeOffset? From, DateTimeOffset? Until, long? Before)
{
    public const int PageSize = 50;
}

/// <summary>One transfer (event × agreement) as the list shows it: its decision and its latest outcome.</summary>
public sealed record TransferRow(
    long Seq, DateTimeOffset DecidedAt, Guid EventId, string EventType, string Controller, string Sender, string AgreementId, string Recipient,
    IReadOnlyList<string> Reasons, string Outcome, DateTimeOffset LastAt, int? StatusCode);

/// <summary>A transfer as it waits in <c>parked_transfer</c>, without its (sealed) payload.</summary>
public sealed record ParkedRow(
    string IdempotencyKey, Guid EventId, string EventType, string AgreementId, string Recipient, string State, int Attempts,
    DateTimeOffset NextAttemptAt, DateTimeOffset ParkedAt, int? LastStatus, string? LastProblem, string Controller);

/// <summary>What the recipients page shows for one recipient, from the ledger and the parked transfers.</summary>
public sealed record RecipientActivity(DateTimeOffset? LastSuccess, long AttemptsLastDay, long FailuresLastDay)
{
    public double? ErrorRate => AttemptsLastDay == 0 ? null : (double)FailuresLastDay / AttemptsLastDay;
}

/// <summary>
/// The ops app's reads: ledger entries and parked transfers, metadata only (never a payload), each within the reader's
/// <see cref="OpsScope"/>: the rows of the controllers they may see, none of another's.
/// </summary>
public sealed class OpsQueries(NpgsqlDataSource dataSource, TimeProvider time)
{
    public async Task<IReadOnlyList<TransferRow>> TransfersAsync(TransferFilter filter, OpsScope scope, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT d.seq, d.recorded_at, d.event_id, d.event_type, d.controller, d.sender, d.agreement_id, d.recipient, d.reasons,
                   coalesce(o.outcome, d.outcome), coalesce(o.recorded_at, d.recorded_at), coalesce(o.status_code, d.status_code)
            FROM ledger_entry d
            LEFT JOIN LATERAL (
                SELECT outcome, recorded_at, status_code FROM ledger_entry o
                WHERE o.kind = 'outcome' AND o.event_id = d.event_id AND o.agreement_id = d.agreement_id
                ORDER BY o.seq DESC LIMIT 1) o ON true
            WHERE d.kind = 'decision'
              AND ($1::text IS NULL OR d.recipient = $1)
              AND ($2::text IS NULL OR coalesce(o.outcome, d.outcome) = $2)
              AND ($3::text IS NULL OR d.event_type = $3)
              AND ($4::text IS NULL OR d.agreement_id = $4)
              AND ($5::timestamptz IS NULL OR d.recorded_at >= $5)
              AND ($6::timestamptz IS NULL OR d.recorded_at < $6)
              AND ($7::bigint IS NULL OR d.seq < $7)
              AND ($9::text[] IS NULL OR d.controller = ANY($9))
            ORDER BY d.seq DESC LIMIT $8
            """);
        command.Parameters.Add(Text(filter.Recipient));
        command.Parameters.Add(Text(filter.Outcome));
        command.Parameters.Add(Text(filter.EventType));
        command.Parameters.Add(Text(filter.Agreement));
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)filter.From?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)filter.Until?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)filter.Before ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = TransferFilter.PageSize });
        command.Parameters.Add(scope.Parameter());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<TransferRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new TransferRow(
                reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetGuid(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6),
                reader.GetString(7), reader.GetFieldValue<string[]>(8), reader.GetString(9), reader.GetFieldValue<DateTimeOffset>(10), reader.IsDBNull(11) ? null : reader.GetInt32(11)));
        }

        return rows;
    }

    /// <summary>Every ledger entry of one transfer, oldest first: its decision and each later outcome; none when it is not in scope.</summary>
    public async Task<IReadOnlyList<LedgerEntry>> TransferAsync(Guid eventId, string agreementId, OpsScope scope, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {LedgerVerifier.Columns} FROM ledger_entry WHERE event_id = $1 AND agreement_id = $2 AND kind IN ('decision', 'outcome') AND ($3::text[] IS NULL OR controller = ANY($3)) ORDER BY seq");
        command.Parameters.Add(new() { Value = eventId });
        command.Parameters.Add(new() { Value = agreementId });
        command.Parameters.Add(scope.Parameter());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var entries = new List<LedgerEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(LedgerVerifier.Read(reader));
        }

        return entries;
    }

    const string ParkedColumns = "idempotency_key, event_id, event_type, agreement_id, recipient, state, attempts, next_attempt_at, parked_at, last_status, last_problem, controller";

    public async Task<IReadOnlyList<ParkedRow>> ParkedAsync(string? recipient, string? state, OpsScope scope, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {ParkedColumns} FROM parked_transfer
            WHERE ($1::text IS NULL OR recipient = $1) AND ($2::text IS NULL OR state = $2) AND ($3::text[] IS NULL OR controller = ANY($3))
            ORDER BY parked_at DESC LIMIT 500
            """);
        command.Parameters.Add(Text(recipient));
        command.Parameters.Add(Text(state));
        command.Parameters.Add(scope.Parameter());
        return await ParkedRowsAsync(command, cancellationToken);
    }

    public async Task<ParkedRow?> ParkedAsync(string idempotencyKey, OpsScope scope, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {ParkedColumns} FROM parked_transfer WHERE idempotency_key = $1 AND ($2::text[] IS NULL OR controller = ANY($2))");
        command.Parameters.Add(new() { Value = idempotencyKey });
        command.Parameters.Add(scope.Parameter());
        return (await ParkedRowsAsync(command, cancellationToken)).SingleOrDefault();
    }

    /// <summary>
    /// The parked transfer of one event under one agreement, whatever its key (the recipient's reference, or the event id
    /// for one parked before references; should both exist, an event redelivered across the upgrade, the newest).
    /// </summary>
    public async Task<ParkedRow?> ParkedAsync(Guid eventId, string agreementId, OpsScope scope, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {ParkedColumns} FROM parked_transfer WHERE event_id = $1 AND agreement_id = $2 AND ($3::text[] IS NULL OR controller = ANY($3)) ORDER BY parked_at DESC LIMIT 1");
        command.Parameters.Add(new() { Value = eventId });
        command.Parameters.Add(new() { Value = agreementId });
        command.Parameters.Add(scope.Parameter());
        return (await ParkedRowsAsync(command, cancellationToken)).SingleOrDefault();
    }

    /// <summary>How many transfers wait, per recipient and state, of the controllers in scope.</summary>
    public Task<IReadOnlyList<(string Recipient, string State, long Count)>> ParkedCountsAsync(OpsScope scope, CancellationToken cancellationToken) =>
        Storage.ParkedTransfers.CountsAsync(dataSource, cancellationToken, scope.Controllers);

    static async Task<IReadOnlyList<ParkedRow>> ParkedRowsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<ParkedRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new ParkedRow(
                reader.GetString(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetInt32(6),
                reader.GetFieldValue<DateTimeOffset>(7), reader.GetFieldValue<DateTimeOffset>(8), reader.IsDBNull(9) ? null : reader.GetInt32(9), reader.IsDBNull(10) ? null : reader.GetString(10), reader.GetString(11)));
        }

        return rows;
    }

    /// <summary>
    /// Per recipient: the last delivery in the last 30 days (not a scan of the whole ledger), and over the last day
    /// the attempts that reached a recipient or failed to (delivered, parked, refused, held) and how many failed.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, RecipientActivity>> RecipientActivityAsync(OpsScope scope, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT recipient,
                   max(recorded_at) FILTER (WHERE outcome = 'delivered'),
                   count(*) FILTER (WHERE recorded_at >= $1 AND outcome IN ('delivered', 'parked', 'rejected', 'held')),
                   count(*) FILTER (WHERE recorded_at >= $1 AND outcome IN ('parked', 'rejected', 'held'))
            FROM ledger_entry WHERE kind IN ('decision', 'outcome') AND recorded_at >= $2 AND ($3::text[] IS NULL OR controller = ANY($3)) GROUP BY recipient
            """);
        command.Parameters.Add(new() { Value = time.GetUtcNow().AddDays(-1) });
        command.Parameters.Add(new() { Value = time.GetUtcNow().AddDays(-30) });
        command.Parameters.Add(scope.Parameter());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var activity = new Dictionary<string, RecipientActivity>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            activity[reader.GetString(0)] = new RecipientActivity(reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1), reader.GetInt64(2), reader.GetInt64(3));
        }

        return activity;
    }

    static NpgsqlParameter Text(string? value) =>
        new() { Value = string.IsNullOrWhiteSpace(value) ? DBNull.Value : value, NpgsqlDbType = NpgsqlDbType.Text };

    public static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
}
