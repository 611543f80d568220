using Npgsql;

namespace IntegrationGateway.Load;

/// <summary>
/// How busy the ledger's one chain lock is while the gateways drain: every 20 ms, from <c>pg_locks</c>, whether a
/// session holds <c>pg_advisory_xact_lock(ChainLock)</c> and how many wait for it. With N replicas writing one chain,
/// a lock held nearly all the time with sessions queued behind it is what would cap their throughput; sampled on its
/// own connection, so the figures say what PostgreSQL saw, not what the gateways think.
/// </summary>
internal sealed class LedgerLockSampler : IAsyncDisposable
{
    /// <summary>A bigint key shows in pg_locks as classid (its high half) 0, objid the key, objsubid 1.</summary>
    const long ChainLock = Gateway.Ledger.LedgerWriter.ChainLock;

    readonly CancellationTokenSource _stop = new();
    readonly Task _sampling;
    long _samples;
    long _held;
    long _waiting;
    long _withWaiters;

    LedgerLockSampler(NpgsqlDataSource database) => _sampling = SampleAsync(database, _stop.Token);

    public static LedgerLockSampler Start(NpgsqlDataSource database) => new(database);

    async Task SampleAsync(NpgsqlDataSource database, CancellationToken stop)
    {
        await using var connection = await database.OpenConnectionAsync(stop);
        await using var command = new NpgsqlCommand(
            $"SELECT count(*) FILTER (WHERE granted), count(*) FILTER (WHERE NOT granted) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = {ChainLock} AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            connection);
        await command.PrepareAsync(stop);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                await using var reader = await command.ExecuteReaderAsync(stop);
                await reader.ReadAsync(stop);
                var (held, waiting) = (reader.GetInt64(0), reader.GetInt64(1));
                _samples++;
                _held += held > 0 ? 1 : 0;
                _waiting += waiting;
                _withWaiters += waiting > 0 ? 1 : 0;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // stopped at the end of the drain
        }
    }

    /// <summary>"held 41 % of 1,203 samples; 1+ waiting in 12 %, 0.14 waiting on average".</summary>
    public async Task<string> StopAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        return _samples == 0
            ? "not sampled"
            : string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"held {(double)_held / _samples:P0} of {_samples:N0} samples; 1+ waiting in {(double)_withWaiters / _samples:P0}, {(double)_waiting / _samples:0.00} waiting on average");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        _stop.Dispose();
    }
}
