using Npgsql;

namespace IntegrationGateway.Gateway.Subjects;

/// <summary>One transfer of a person's data, as the ledger recorded it.</summary>
public sealed record SubjectTransfer(
    DateTimeOffset At, string Controller, string Sender, string Recipient, string AgreementId, int AgreementVersion, string LegalBasis, string EventType, IReadOnlyList<string> Disclosed);

/// <summary>
/// The answer to "who received my data?" (GDPR art. 15(1)(c)): from the ledger, every transfer delivered for one
/// subject, found by any of their pseudonyms (the identifier itself is never in the database): recipient, date, agreement, legal
/// basis and the fields disclosed. Each controller answers for its own transfers; the platform DPO for all.
/// </summary>
public static class SubjectReport
{
    /// <param name="dataSource">The gateway's database.</param>
    /// <param name="controllers">Only these controllers' transfers; null: every controller's.</param>
    /// <param name="pseudonyms">Any of the subject's pseudonyms.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    public static async Task<IReadOnlyList<SubjectTransfer>> ForAsync(NpgsqlDataSource dataSource, IReadOnlyList<string>? controllers, IReadOnlyList<byte[]> pseudonyms, CancellationToken cancellationToken)
    {
        // The first delivery of each transfer: a message delivered again records a later outcome of the same one.
        await using var command = dataSource.CreateCommand("""
            SELECT at, controller, sender, recipient, agreement_id, agreement_version, legal_basis, event_type, disclosed FROM (
                SELECT DISTINCT ON (o.idempotency_key)
                       o.seq, o.recorded_at AS at, o.controller, o.sender, o.recipient, o.agreement_id, o.agreement_version, o.legal_basis, o.event_type,
                       CASE WHEN cardinality(o.disclosed) > 0 THEN o.disclosed ELSE coalesce(d.disclosed, o.disclosed) END AS disclosed
                FROM ledger_entry o
                LEFT JOIN ledger_entry d ON o.kind = 'outcome' AND d.kind = 'decision' AND d.idempotency_key = o.idempotency_key
                WHERE o.subject_pseudonyms && $1 AND o.kind IN ('decision', 'outcome') AND o.outcome = 'delivered'
                  AND ($2::text[] IS NULL OR o.controller = ANY($2))
                ORDER BY o.idempotency_key, o.seq) first_delivery
            ORDER BY seq
            """);
        command.Parameters.Add(new() { Value = pseudonyms.ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bytea });
        command.Parameters.Add(Storage.SqlParameters.TextsOrNull(controllers));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var transfers = new List<SubjectTransfer>();
        while (await reader.ReadAsync(cancellationToken))
        {
            transfers.Add(new SubjectTransfer(
                reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5), reader.GetString(6), reader.GetString(7), reader.GetFieldValue<string[]>(8)));
        }

        return transfers;
    }
}

/// <summary>The ledger's answer as the notices ask it: who received the subject's data.</summary>
public sealed class LedgerSubjectHistory(NpgsqlDataSource dataSource) : Storage.ISubjectHistory
{
    public Task<IReadOnlyList<SubjectTransfer>> TransfersAsync(string? controller, IReadOnlyList<byte[]> pseudonyms, CancellationToken cancellationToken) =>
        SubjectReport.ForAsync(dataSource, controller is null ? null : [controller], pseudonyms, cancellationToken);
}
