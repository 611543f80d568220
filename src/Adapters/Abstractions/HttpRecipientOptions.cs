using System.ComponentModel.DataAnnotations;

namespace IntegrationGateway.Adapters;

/// <summary>What every recipient reached over HTTP needs: where it is and how long one attempt may take.</summary>
public class HttpRecipientOptions
{
    /// <summary>Base address of the recipient's endpoint; resource paths are appended to it.</summary>
    [Required]
    public Uri? BaseUrl { get; set; }

    /// <summary>Time allowed for one delivery attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Points a client at the recipient.</summary>
    public void Apply(HttpClient http)
    {
        // A trailing slash makes relative paths append to the base path instead of replacing its last segment.
        http.BaseAddress = new Uri(BaseUrl!.ToString().TrimEnd('/') + "/");
        http.Timeout = Timeout;
    }
}
