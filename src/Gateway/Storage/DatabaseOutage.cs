using Npgsql;

namespace IntegrationGateway.Gateway.Storage;

/// <summary>
/// The database being away, as every part of the gateway sees it, in one place: the first part to hit it logs one
/// line (a warning) and starts one probe, which opens a fresh connection every <see cref="ProbeInterval"/>; whoever
/// has work that needs the database waits for that probe (<see cref="WaitUntilBackAsync"/>) and resumes the moment it
/// answers, not after a backoff that grew while it was away; the probe logs one line when it is back, with how long
/// it was away and how much waited. In between, nothing else is logged about it: no stack trace per retry.
/// </summary>
public sealed partial class DatabaseOutage
{
    readonly Func<Task> _answers;
    readonly Action _dropIdleConnections;
    readonly TimeProvider _time;
    readonly ILogger _logger;

    public DatabaseOutage(NpgsqlDataSource dataSource, TimeProvider time, ILogger<DatabaseOutage> logger)
        : this(() => AnswersAsync(dataSource), dataSource.Clear, time, logger)
    {
    }

    /// <param name="answers">Completes when the database answers a query; throws while it does not.</param>
    /// <param name="dropIdleConnections">Drops the pool's idle connections, which died with the server.</param>
    /// <param name="time">The probe's clock.</param>
    /// <param name="logger">Where the two lines go.</param>
    internal DatabaseOutage(Func<Task> answers, Action dropIdleConnections, TimeProvider time, ILogger logger)
    {
        _answers = answers;
        _dropIdleConnections = dropIdleConnections;
        _time = time;
        _logger = logger;
    }

    static async Task AnswersAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        await command.ExecuteScalarAsync().ConfigureAwait(false);
    }

    /// <summary>How often the probe tries a connection while the database is away.</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(500);

    readonly Lock _lock = new();
    Task? _probe;
    long _waits;
    long _failures;

    /// <summary>Whether an outage is going on (a probe runs).</summary>
    public bool Ongoing
    {
        get
        {
            lock (_lock)
            {
                return _probe is { IsCompleted: false };
            }
        }
    }

    /// <summary>Something failed for want of the database (counted; the first failure of an outage is logged and starts the probe).</summary>
    /// <param name="where">What failed, for the one line: "intake", "ledger writer", "scheduler".</param>
    /// <param name="problem">The exception's type name: never its message, which may quote data.</param>
    public Task NoticedAsync(string where, string problem)
    {
        Interlocked.Increment(ref _failures);
        lock (_lock)
        {
            if (_probe is null || _probe.IsCompleted)
            {
                LogAway(where, problem);
                _probe = ProbeAsync();
            }

            return _probe;
        }
    }

    /// <summary>Waits until the database answers again (at once when no outage is going on); counts the wait.</summary>
    public async Task WaitUntilBackAsync(string where, string problem, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waits);
        await NoticedAsync(where, problem).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    async Task ProbeAsync()
    {
        var started = _time.GetTimestamp();
        while (true)
        {
            // First a pause, also when it answers at once: the callers then try again, and an error that only looked
            // like an outage must not turn into a loop that never waits.
            await Task.Delay(ProbeInterval, _time).ConfigureAwait(false);
            try
            {
                await _answers().ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // The pool's idle connections died with the server: drop them, or the next try gets one of them.
                _dropIdleConnections();
            }
        }

        _dropIdleConnections();
        LogBack(_time.GetElapsedTime(started).TotalSeconds, Interlocked.Exchange(ref _failures, 0), Interlocked.Exchange(ref _waits, 0));
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL is unreachable ({ExceptionType}, first noticed by the {Where}); work that needs it waits, nothing is lost or acknowledged early. One line when it is back")]
        public static partial void Away(ILogger logger, string where, string exceptionType);

        [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL answers again after {Seconds:0.0} s; {Failures} operation(s) failed for want of it, {Waits} waited and resume now")]
        public static partial void Back(ILogger logger, double seconds, long failures, long waits);
    }

    void LogAway(string where, string exceptionType) => Log.Away(_logger, where, exceptionType);

    void LogBack(double seconds, long failures, long waits) => Log.Back(_logger, seconds, failures, waits);
}
