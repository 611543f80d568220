using Npgsql;

namespace IntegrationGateway.Gateway.Storage;

/// <summary>
/// Which recipients' routes are disabled (after a 410 Gone, or by an operator), kept in PostgreSQL so it survives
/// restarts and holds for every gateway; read through a cache refreshed every few seconds.
/// </summary>
public sealed partial class RecipientRoutes(NpgsqlDataSource dataSource, TimeProvider time, ILogger<RecipientRoutes> logger) : IRecipientRoutes
{
    static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    volatile IReadOnlySet<string> _disabled = new HashSet<string>();
    long _readAt = long.MinValue;

    public async Task<IReadOnlySet<string>> DisabledAsync(CancellationToken cancellationToken)
    {
        if (_readAt != long.MinValue && time.GetElapsedTime(Interlocked.Read(ref _readAt)) < CacheFor)
        {
            return _disabled;
        }

        await using var command = dataSource.CreateCommand("SELECT recipient FROM recipient_route WHERE disabled_at IS NOT NULL");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var disabled = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            disabled.Add(reader.GetString(0));
        }

        _disabled = disabled;
        Interlocked.Exchange(ref _readAt, time.GetTimestamp());
        return disabled;
    }

    /// <summary>Disables the route and raises the alert (a critical log line: route it to whoever is on call).</summary>
    public async Task DisableAsync(string recipient, string reason, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO recipient_route (recipient, disabled_at, reason) VALUES ($1, $2, $3) ON CONFLICT (recipient) DO UPDATE SET disabled_at = EXCLUDED.disabled_at, reason = EXCLUDED.reason");
        command.Parameters.Add(new() { Value = recipient });
        command.Parameters.Add(new() { Value = time.GetUtcNow() });
        command.Parameters.Add(new() { Value = reason });
        await command.ExecuteNonQueryAsync(cancellationToken);
        _disabled = new HashSet<string>(_disabled, StringComparer.Ordinal) { recipient };
        LogDisabled(recipient, reason);
    }

    public async Task<bool> EnableAsync(string recipient, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("UPDATE recipient_route SET disabled_at = NULL, reason = NULL WHERE recipient = $1 AND disabled_at IS NOT NULL");
        command.Parameters.Add(new() { Value = recipient });
        var changed = await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        Interlocked.Exchange(ref _readAt, long.MinValue);
        return changed;
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "ALERT: the route to {Recipient} is disabled ({Reason}); its transfers are held until it is enabled again ('recipients enable {Recipient}')")]
    partial void LogDisabled(string recipient, string reason);
}
