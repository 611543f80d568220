using System.ComponentModel.DataAnnotations;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>
/// What happens to a transfer the in-process attempts did not deliver (those are <c>RecipientResilienceOptions</c>,
/// in the same section): it is parked in PostgreSQL and retried by the scheduler on a longer backoff. Bound to
/// <c>Delivery</c>.
/// </summary>
public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    /// <summary>Wait before a parked transfer's first retry; doubles with each further one, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan ParkedRetryBaseDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait between two retries of a parked transfer.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ParkedRetryMaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the scheduler looks for parked transfers that are due.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan SchedulerInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Parked transfers the scheduler takes at a time.</summary>
    [Range(1, 1000)]
    public int SchedulerBatchSize { get; set; } = 32;

    /// <summary>How long a taken transfer is the scheduler's before another may take it (a crash mid-attempt).</summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan SchedulerLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a message waits for a transfer's first attempt (its in-process retries included). Longer, and the
    /// transfer is parked under this gateway's lease while the attempt goes on and is settled when it ends, so the
    /// message is acknowledged and a slow recipient does not hold the intake; the recipient counts as slow until it
    /// answers within this again (<see cref="RecipientBulkhead"/>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan FirstAttemptWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// When a parked transfer is next due after <paramref name="attempts"/> attempts; a <c>Retry-After</c> that asks
    /// for longer wins, up to <see cref="ParkedRetryMaxDelay"/>: a recipient's header cannot hold a transfer for years.
    /// </summary>
    public TimeSpan ParkedBackoff(int attempts, TimeSpan? retryAfter)
    {
        var exponential = ParkedRetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        var capped = Math.Min(exponential, ParkedRetryMaxDelay.TotalMilliseconds) * (1 + (Random.Shared.NextDouble() * 0.2));
        return TimeSpan.FromMilliseconds(Math.Max(capped, Math.Min(retryAfter?.TotalMilliseconds ?? 0, ParkedRetryMaxDelay.TotalMilliseconds)));
    }
}
