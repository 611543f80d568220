using System.ComponentModel.DataAnnotations;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>How a transfer that failed transiently is retried, bound to <c>Delivery</c>.</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    /// <summary>Wait before the second attempt; doubles with each further attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait between two attempts.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);
}
