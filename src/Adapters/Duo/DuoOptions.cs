using System.ComponentModel.DataAnnotations;

namespace IntegrationGateway.Adapters.Duo;

/// <summary>Settings of the DUO adapter, bound to <c>Recipients:Duo</c>.</summary>
public sealed class DuoOptions
{
    public const string Section = "Recipients:Duo";

    /// <summary>Base address of DUO's endpoint; the adapter appends the resource path to it.</summary>
    [Required]
    public Uri? BaseUrl { get; set; }

    /// <summary>Time allowed for one delivery attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
