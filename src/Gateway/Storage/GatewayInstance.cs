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

    public Guid Id { get; } = Guid.NewGuid();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await EnsureAliveAsync(cancellationToken);
        LogStarted(Id, Environment.MachineName);
    }

    /// <summary>
    /// Checks that the session holding the lock is still there, and if it is not (the database restarted, the
    /// connection broke) opens another and takes a lock again under the same id. Other gateways may have taken this
    /// one's leases meanwhile: its updates under those leases are then ignored, as any lease that passed on.
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
                    await using var ping = new NpgsqlCommand("SELECT 1", _session);
                    await ping.ExecuteScalarAsync(cancellationToken);
                    return;
                }
                catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
                {
                    await _session.DisposeAsync();
                    _session = null;
                }
            }

            var session = await dataSource.OpenConnectionAsync(cancellationToken);
            try
            {
                int key;
                do
                {
                    key = Random.Shared.Next(1, int.MaxValue);
                }
                while (!await TryLockAsync(session, key, cancellationToken));

                await using var register = new NpgsqlCommand(
                    "INSERT INTO gateway_instance (id, host, lock_key, started_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET lock_key = EXCLUDED.lock_key", session);
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
            await using var command = dataSource.CreateCommand("""
                UPDATE parked_transfer SET lease_id = NULL, lease_owner = NULL, next_attempt_at = $2 WHERE lease_owner = $1;
                DELETE FROM gateway_instance WHERE id = $1;
                """);
            command.Parameters.Add(new() { Value = Id });
            command.Parameters.Add(new() { Value = time.GetUtcNow() });
            await command.ExecuteNonQueryAsync(cancellationToken);
            LogStopped(Id);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Gateway instance {InstanceId} gave back its leases and left")]
    partial void LogStopped(Guid instanceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gateway instance {InstanceId} could not give back its leases ({ExceptionType}); the other gateways take them over once its session is gone")]
    partial void LogLeasesNotReleased(Guid instanceId, string exceptionType);
}
