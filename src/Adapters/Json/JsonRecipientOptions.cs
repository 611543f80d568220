using System.ComponentModel.DataAnnotations;

namespace IntegrationGateway.Adapters.Json;

/// <summary>
/// Settings of one recipient that takes plain JSON over HTTP(S), bound to <c>Recipients:{id}</c> where
/// <c>Format</c> is <c>json</c>.
/// </summary>
public sealed class JsonRecipientOptions : HttpRecipientOptions
{
    public const string Format = "json";

    /// <summary>Resource path below <see cref="HttpRecipientOptions.BaseUrl"/> that transfers are posted to.</summary>
    [Required]
    public string Path { get; set; } = "transfers";

    /// <summary>Whether the recipient takes erasure notices (posted to <see cref="Path"/> like any transfer).</summary>
    public bool ErasureNotices { get; set; } = true;
}
