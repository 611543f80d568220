using System.Collections.Concurrent;

namespace IntegrationGateway.Gateway.Ops;

/// <summary>
/// Refused sign-ins, written to the audit per address, user and minute: the first at once (who, from where, why), the
/// rest of that minute as one row when it is over ("N more"), so that a flood of guesses from anywhere cannot push
/// what staff did off the audit's pages. Counts still open are written when the gateway stops.
/// </summary>
public sealed partial class RefusedSignIns(OpsAudit audit, TimeProvider time, ILogger<RefusedSignIns> logger) : BackgroundService
{
    readonly ConcurrentDictionary<(string Address, string Actor, string Detail, long Minute), Tally> _tallies = new();

    sealed class Tally(OpsScope scope)
    {
        public int Count;

        public OpsScope Scope { get; } = scope;
    }

    public async Task RecordAsync(HttpContext http, string actor, string detail, OpsScope scope, CancellationToken cancellationToken)
    {
        var address = OpsAccess.ClientAddress(http)?.ToString() ?? "an unknown address";
        // Per reason too: a right password followed by wrong codes is not hidden among wrong passwords.
        var tally = _tallies.GetOrAdd((address, actor, detail, time.GetUtcNow().ToUnixTimeSeconds() / 60), _ => new Tally(scope));
        if (Interlocked.Increment(ref tally.Count) == 1)
        {
            try
            {
                await audit.RecordAsync(actor, OpsAudit.Actions.SignInRefused, $"from {address}", detail, scope, cancellationToken);
            }
            catch
            {
                Interlocked.Decrement(ref tally.Count); // not written: the next refusal is the first again
                throw;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(15), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(all: false, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping: StopAsync writes what is left
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(all: true, cancellationToken);
    }

    /// <summary>Writes the counts of the minutes that are over (all of them when stopping) as one row each.</summary>
    async Task FlushAsync(bool all, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds() / 60;
        foreach (var key in _tallies.Keys.Where(k => all || k.Minute < now).ToList())
        {
            if (!_tallies.TryRemove(key, out var tally) || tally.Count <= 1)
            {
                continue;
            }

            try
            {
                var from = DateTimeOffset.FromUnixTimeSeconds(key.Minute * 60);
                await audit.RecordAsync(key.Actor, OpsAudit.Actions.SignInRefused, $"from {key.Address}", $"{tally.Count - 1} more in the minute from {from:HH:mm} UTC: {key.Detail}", tally.Scope, cancellationToken);
            }
            catch (Npgsql.NpgsqlException ex)
            {
                LogNotWritten(logger, tally.Count - 1, ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} refused sign-in(s) could not be written to the audit: {Problem}")]
    static partial void LogNotWritten(ILogger logger, int count, string problem);
}
