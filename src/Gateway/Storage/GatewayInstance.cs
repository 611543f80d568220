using System.Data;
using Npgsql;

namespace IntegrationGateway.Gateway.Storage;

/// <summary>
/// This gateway process as the database knows it: a new id at each start, alive while a session of its own holds a
/// session-level advisory lock (<see cref="LockSpace"/>, its <c>lock_key</c>), which PostgreSQL releases the moment
/// the session goes, kill -9 included. The parked transfers it leases name it (<c>lease_owner</c>), so another
/// gateway, or this one started again, takes over a dead one's leases at its next round instead of waiting out the
/// lease (<see cref="ParkedTransfers.ReclaimAsync"/>). At a clean stop it gives its leases back and leaves.
/// </summary>
public sealed partial class GatewayInstance(NpgsqlDataSource dataSource, TimeProvider time, ILogger<GatewayInstance> logger) : IHostedService, IAsyncDisposable
{
    /// <summary>The first key of every instance's advisory lock; the second is its <c>lock_key</c>.</summary>
    internal const int LockSpace = 7352003;

    readonly SemaphoreSlim _gate = new(1, 1);
    NpgsqlConnection? _session;
    int _lockKey;

    public Guid Id { get; } = Guid.NewGuid();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await EnsureAliveAsync(cancellationToken);
        LogStarted(Id, Environment.MachineName);
    }

    /// <summary>
    /// Checks that the session holding the lock is still there and stamps <c>last_seen_at</c>; if the session is gone
    /// (the database restarted, the connection broke) opens another and takes the same lock again under the same id.
    /// Within the grace period (<see cref="ParkedTransfers.ReclaimAsync"/>) no other gateway takes its leases; after
    /// it, its updates under leases another took over are ignored, as for any lease that passed on.
    /// </summary>
    public async Task EnsureAliveAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_session is { State: ConnectionState.Open })
            {
                try
                {
                    // The database's clock, which every gateway shares, not this host's.
                    await using var seen = new NpgsqlCommand("UPDATE gateway_instance SET last_seen_at = now() WHERE id = $1", _session);
                    seen.Parameters.Add(new() { Value = Id });
                    await seen.ExecuteNonQueryAsync(cancellationToken);
                    return;
                }
                catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
                {
                    await _session.DisposeAsync();
                    _session = null;
                }
            }

            var session = await dataSource.OpenConnectionAsync(cancellationToken);
            // The same key again after a lost session, so the others see the same lock; a new one if it is taken.
            var key = _lockKey;
            try
            {
                while (key <= 0 || !await TryLockAsync(session, key, cancellationToken))
                {
                    key = Random.Shared.Next(1, int.MaxValue);
                }

                await using var register = new NpgsqlCommand(
                    "INSERT INTO gateway_instance (id, host, lock_key, started_at, last_seen_at) VALUES ($1, $2, $3, $4, now()) ON CONFLICT (id) DO UPDATE SET lock_key = EXCLUDED.lock_key, last_seen_at = now()", session);
                register.Parameters.Add(new() { Value = Id });
                register.Parameters.Add(new() { Value = Environment.MachineName });
                register.Parameters.Add(new() { Value = key });
                register.Parameters.Add(new() { Value = time.GetUtcNow() });
                await register.ExecuteNonQueryAsync(cancellationToken);
            }
            catch
            {
                await session.DisposeAsync();
                throw;
            }

            _session = session;
            _lockKey = key;
        }
        finally
        {
            _gate.Release();
        }
    }

    static async Task<bool> TryLockAsync(NpgsqlConnection session, int key, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockSpace}, $1)", session);
        command.Parameters.Add(new() { Value = key });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Stops after the scheduler (registered before it): what it still leases becomes due now, for the others.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Two statements with parameters: a batch (one command may not hold both).
            await using var batch = dataSource.CreateBatch();
            var release = new NpgsqlBatchCommand("UPDATE parked_transfer SET lease_id = NULL, lease_owner = NULL, next_attempt_at = $2 WHERE lease_owner = $1");
            release.Parameters.Add(new() { Value = Id });
            release.Parameters.Add(new() { Value = time.GetUtcNow() });
            var leave = new NpgsqlBatchCommand("DELETE FROM gateway_instance WHERE id = $1");
            leave.Parameters.Add(new() { Value = Id });
            batch.BatchCommands.Add(release);
            batch.BatchCommands.Add(leave);
            await batch.ExecuteNonQueryAsync(cancellationToken);
            LogStopped(Id, release.RecordsAffected);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            // The database is away: the lock goes with the session, and the others take the leases over all the same.
            LogLeasesNotReleased(Id, ex.GetType().Name);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_session is not null)
        {
            await _session.DisposeAsync();
        }

        _gate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway instance {InstanceId} on {Host} registered")]
    partial void LogStarted(Guid instanceId, string host);

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway instance {InstanceId} gave back its leases ({Count}) and left")]
    partial void LogStopped(Guid instanceId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gateway instance {InstanceId} could not give back its leases ({ExceptionType}); the other gateways take them over once its session is gone")]
    partial void LogLeasesNotReleased(Guid instanceId, string exceptionType);
}
