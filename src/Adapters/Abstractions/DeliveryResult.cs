namespace IntegrationGateway.Adapters;

/// <summary>How one delivery attempt ended.</summary>
public enum DeliveryStatus
{
    /// <summary>The recipient accepted the transfer.</summary>
    Delivered,

    /// <summary>A failure that may pass: 5xx, 408, 429, timeout, connection refused or reset. Worth retrying.</summary>
    Transient,

    /// <summary>The recipient refused the transfer for good (4xx other than 408/410/429). Retrying cannot help.</summary>
    Rejected,

    /// <summary>410 Gone: the endpoint no longer exists. The recipient's route is disabled until someone looks.</summary>
    Gone,
}

/// <summary>
/// The outcome of a delivery attempt. Carries status codes and the recipient's receipt, never payload values:
/// it is logged and, later, written to the ledger.
/// </summary>
public sealed record DeliveryResult(DeliveryStatus Status, int? StatusCode, string? Receipt, string? Problem)
{
    /// <summary>How long the recipient asked to be left alone (<c>Retry-After</c> on 429/503), if it did.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>SHA-256 of the exact bytes sent (the recipient's wire format), for the ledger; null when nothing was sent.</summary>
    public byte[]? SentSha256 { get; init; }

    public static DeliveryResult FromStatusCode(int statusCode, string? receipt) => statusCode switch
    {
        >= 200 and < 300 => new(DeliveryStatus.Delivered, statusCode, receipt, null),
        408 or 429 or >= 500 => new(DeliveryStatus.Transient, statusCode, null, $"recipient answered {statusCode}"),
        410 => new(DeliveryStatus.Gone, statusCode, null, "recipient answered 410 Gone"),
        _ => new(DeliveryStatus.Rejected, statusCode, null, $"recipient answered {statusCode}"),
    };

    public static DeliveryResult Unreachable(string problem) => new(DeliveryStatus.Transient, null, null, problem);
}
