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

    /// <param name="actor">Who (a staff user name).</param>
    /// <param name="action">One of <see cref="Actions"/>.</param>
    /// <param name="target">What it was done to (a pseudonym's start, an idempotency key, a recipient).</param>
    /// <param name="detail">More, never a value about a person.</param>
    /// <param name="scope">The controllers whose staff may read the row; the platform's (only its staff read it) when <see cref="OpsScope.All"/>.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public async Task RecordAsync(string actor, string action, string target, string detail, OpsScope scope, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("INSERT INTO ops_audit (at, actor, action, target, detail, controllers) VALUES ($1, $2, $3, $4, $5, $6)");
        command.Parameters.Add(new() { Value = time.GetUtcNow() });
        command.Parameters.Add(new() { Value = Clean(actor) });
        command.Parameters.Add(new() { Value = action });
        command.Parameters.Add(new() { Value = Clean(target) });
        command.Parameters.Add(new() { Value = Clean(detail) });
        command.Parameters.Add(scope.Parameter());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The latest rows <paramref name="scope"/> may read: all for the platform; else those of its controllers.</summary>
    public async Task<IReadOnlyList<OpsAuditEntry>> LatestAsync(int count, OpsScope scope, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT at, actor, action, target, detail FROM ops_audit WHERE $2::text[] IS NULL OR controllers && $2 ORDER BY id DESC LIMIT $1");
        command.Parameters.Add(new() { Value = count });
        command.Parameters.Add(scope.Parameter());
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
