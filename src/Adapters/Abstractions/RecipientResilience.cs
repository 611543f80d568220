using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace IntegrationGateway.Adapters;

/// <summary>How one transfer is tried in process before it is parked, and when a recipient's circuit opens; bound to <c>Delivery</c>.</summary>
public sealed class RecipientResilienceOptions
{
    /// <summary>Attempts in process, the first included; then the transfer is parked and retried later.</summary>
    [Range(1, 10)]
    public int Attempts { get; set; } = 4;

    /// <summary>Wait before the second attempt; doubles with each further one, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait between two attempts in process.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A <c>Retry-After</c> up to this long is waited for in process; a longer one parks the transfer until then.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The circuit opens when at least this share of the calls in the sampling window failed...</summary>
    [Range(0.01, 1.0)]
    public double CircuitFailureRatio { get; set; } = 0.5;

    /// <summary>...and the window held at least this many calls.</summary>
    [Range(2, 1000)]
    public int CircuitMinimumThroughput { get; set; } = 8;

    /// <summary>
    /// The window the failure ratio is measured over. Short, so a recipient that starts failing is cut off within
    /// seconds however many successes came before (a 30 s window full of them took about 20 s to open).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan CircuitSamplingDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an open circuit fails calls at once before it lets one through to probe.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// What each recipient's resilience handler (Microsoft.Extensions.Http.Resilience, one named pipeline per recipient,
/// kept by the factory's registry for the life of the process, so its circuit outlives the HTTP handlers the factory
/// rotates) is made of: retries with exponential backoff and jitter that honour <c>Retry-After</c> on 429 and 503, but
/// park the transfer at once when it asks for longer than <see cref="RecipientResilienceOptions.MaxRetryAfter"/>; no
/// retry on other 4xx; a circuit breaker whose state the ops page reads; a timeout per attempt. While a recipient's
/// circuit is open its transfers fail at once and are parked; the other recipients are not held up.
/// </summary>
/// <remarks>
/// A bulkhead before the circuit opens: a transfer is retried in process only while its recipient's last answer
/// before this failure was not a failure too (<see cref="RecipientHealth"/>). One blip among successes is retried as
/// before; once a recipient fails twice running, its transfers are parked after their first failed attempt, so they
/// do not hold the intake's slots through backoffs (each message waits for all its transfers to settle) and the other
/// recipients' deliveries go on at their rate. The first answer that is not a failure lets retries in again.
/// </remarks>
public sealed partial class RecipientResilience(IOptions<RecipientResilienceOptions> options, TimeProvider time, ILogger<RecipientResilience> logger)
{
    readonly ConcurrentDictionary<string, CircuitBreakerStateProvider> _circuits = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, RecipientHealth> _health = new(StringComparer.Ordinal);

    /// <summary>The state of a recipient's circuit: <c>Closed</c>, <c>Open</c>, <c>HalfOpen</c> or <c>Isolated</c>; null before its first call.</summary>
    public CircuitState? CircuitOf(string recipient) => _circuits.TryGetValue(recipient, out var circuit) ? circuit.CircuitState : null;

    /// <summary>Whether the recipient's last two answers were failures (its transfers are parked after one attempt).</summary>
    public bool IsFailing(string recipient) => _health.TryGetValue(recipient, out var health) && health.Failing;

    /// <summary>Adds the recipient's strategies to the pipeline its resilience handler builds (once, when first used).</summary>
    public void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder, string recipient, TimeSpan attemptTimeout)
    {
        var settings = options.Value;
        var health = _health.GetOrAdd(recipient, _ => new RecipientHealth());
        // A state provider serves one circuit: a pipeline built again gets a new one, which the ops page then reads.
        var circuit = _circuits[recipient] = new CircuitBreakerStateProvider();
        builder.TimeProvider = time;
        builder
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = settings.Attempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.RetryBaseDelay,
                MaxDelay = settings.RetryMaxDelay,
                ShouldHandle = args =>
                {
                    var failed = args.Outcome switch
                    {
                        { Exception: BrokenCircuitException } => (bool?)null, // open: park it now, do not wait here
                        { Exception: HttpRequestException e } => e.StatusCode is null || IsTransient(e.StatusCode.Value),
                        { Exception: TimeoutRejectedException } => true,
                        { Result: { } response } => IsTransient(response.StatusCode),
                        { Exception: not null } => null,
                        _ => false,
                    };
                    if (failed is not true)
                    {
                        if (failed is false)
                        {
                            health.Answered();
                        }

                        return ValueTask.FromResult(false);
                    }

                    // Retried only when the recipient was not already failing, and not when it asks to wait longer than we would here.
                    return ValueTask.FromResult(!health.FailedAgain() && !(args.Outcome.Result is { } r && RetryAfter(r, time) > settings.MaxRetryAfter));
                },
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } response ? RetryAfter(response, time) : null),
                OnRetry = args =>
                {
                    LogRetry(recipient, args.AttemptNumber + 1, args.Outcome.Result is { } r ? ((int)r.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture) : args.Outcome.Exception?.GetType().Name, args.RetryDelay.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = settings.CircuitFailureRatio,
                MinimumThroughput = settings.CircuitMinimumThroughput,
                SamplingDuration = settings.CircuitSamplingDuration,
                BreakDuration = settings.CircuitBreakDuration,
                StateProvider = circuit,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
                {
                    { Exception: HttpRequestException failed } => failed.StatusCode is null || IsTransient(failed.StatusCode.Value),
                    { Exception: TimeoutRejectedException } => true,
                    { Result: { } response } => IsTransient(response.StatusCode),
                    _ => false,
                }),
                OnOpened = args =>
                {
                    LogCircuitOpened(recipient, args.BreakDuration.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    LogCircuitClosed(recipient);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(attemptTimeout);
    }

    static bool IsTransient(HttpStatusCode status) => (int)status is 408 or 429 or >= 500;

    /// <summary>The wait a 429 or 503 asks for (seconds or a date), if it asks.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time)
    {
        if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable) || response.Headers.RetryAfter is not { } header)
        {
            return null;
        }

        // A date is measured against the recipient's own clock (its Date header) when it sends one.
        var wait = header.Delta ?? (header.Date is { } date ? date - (response.Headers.Date ?? time.GetUtcNow()) : null);
        return wait is { } w && w < TimeSpan.Zero ? TimeSpan.Zero : wait;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Recipient}: attempt {Attempt} follows {Outcome}, in {DelaySeconds:0.0} s")]
    partial void LogRetry(string recipient, int attempt, string? outcome, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Recipient}: circuit opened for {BreakSeconds:0} s; its transfers are parked meanwhile")]
    partial void LogCircuitOpened(string recipient, double breakSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Recipient}: circuit closed again")]
    partial void LogCircuitClosed(string recipient);
}

/// <summary>
/// A recipient's last answers, as the bulkhead reads them: failing once its last two were failures (an error status
/// that means "try again", a timeout, no connection), well again at the first answer that is not.
/// </summary>
public sealed class RecipientHealth
{
    int _failuresRunning;

    public bool Failing => Volatile.Read(ref _failuresRunning) >= 2;

    /// <summary>An answer that is not a failure (a success, or a refusal the recipient means).</summary>
    public void Answered() => Volatile.Write(ref _failuresRunning, 0);

    /// <summary>Records a failure; true when the answer before it was a failure too.</summary>
    public bool FailedAgain() => Interlocked.Increment(ref _failuresRunning) >= 2;
}

/// <summary>
/// Inside each attempt, under its timeout: reads the response's body into memory, so a recipient that sends headers
/// and then stalls is a failed attempt, not a transfer held forever.
/// </summary>
public sealed class BodyWithinAttemptHandler : DelegatingHandler
{
    /// <summary>The most of a recipient's answer that is read: a receipt is a small JSON object.</summary>
    public const int MaxResponseBytes = 1 << 20;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        try
        {
            await response.Content.LoadIntoBufferAsync(MaxResponseBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConfigurationLimitExceeded)
        {
            // Over the limit: the status stands (a 2xx was accepted, an error is still that error), the body is not
            // read further, and the connection goes with it. An answer of any size cannot fill the gateway's memory.
            response.Content.Dispose();
            response.Content = new ByteArrayContent([]);
        }

        return response;
    }
}
