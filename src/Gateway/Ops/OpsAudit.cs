using Npgsql;

namespace IntegrationGateway.Gateway.Ops;

/// <summary>One thing a member of staff did in the ops app.</summary>
public sealed record OpsAuditEntry(DateTimeOffset At, string Actor, string Action, string Target, string Detail);

/// <summary>
/// What staff did in the ops app, kept in <c>ops_audit</c>: who viewed a subject report (by pseudonym, never the
/// identifier they typed), who replayed which transfers, who disabled or enabled a recipient, who signed in.
/// </summary>
public sealed class OpsAudit(NpgsqlDataSource dataSource, TimeProvider time)
{
    public static class Actions
    {
        public const string SignedIn = "signed-in";
        public const string SignInRefused = "sign-in-refused";
        public const string SubjectReportViewed = "subject-report-viewed";
        public const string Replayed = "replayed";
        public const string RecipientDisabled = "recipient-disabled";
        public const string RecipientEnabled = "recipient-enabled";
    }

    public async Task RecordAsync(string actor, string action, string target, string detail, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("INSERT INTO ops_audit (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)");
        command.Parameters.Add(new() { Value = time.GetUtcNow() });
        command.Parameters.Add(new() { Value = Clean(actor) });
        command.Parameters.Add(new() { Value = action });
        command.Parameters.Add(new() { Value = Clean(target) });
        command.Parameters.Add(new() { Value = Clean(detail) });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<OpsAuditEntry>> LatestAsync(int count, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT at, actor, action, target, detail FROM ops_audit ORDER BY id DESC LIMIT $1");
        command.Parameters.Add(new() { Value = count });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var entries = new List<OpsAuditEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new(reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4)));
        }

        return entries;
    }

    static string Clean(string text) => new(text.Where(c => !char.IsControl(c)).Take(2000).ToArray());
}
