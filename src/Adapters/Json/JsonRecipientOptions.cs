using System.ComponentModel.DataAnnotations;

namespace IntegrationGateway.Adapters.Json;

/// <summary>
/// Settings of one recipient that takes plain JSON over HTTP(S), bound to <c>Recipients:{id}</c> where
/// <c>Format</c> is <c>json</c>.
/// </summary>
public sealed class JsonRecipientOptions
{
    public const string Format = "json";

    /// <summary>Base address of the recipient's endpoint.</summary>
    [Required]
    public Uri? BaseUrl { get; set; }

    /// <summary>Resource path below <see cref="BaseUrl"/> that transfers are posted to.</summary>
    [Required]
    public string Path { get; set; } = "transfers";

    /// <summary>Time allowed for one delivery attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
