using System.ComponentModel.DataAnnotations;

namespace IntegrationGateway.Adapters;

/// <summary>What every recipient reached over HTTP needs: where it is, how long one attempt may take, and the key its requests are signed with.</summary>
public class HttpRecipientOptions : IValidatableObject
{
    /// <summary>Base address of the recipient's endpoint; resource paths are appended to it.</summary>
    [Required]
    public Uri? BaseUrl { get; set; }

    /// <summary>Time allowed for one delivery attempt (the resilience pipeline's timeout per attempt).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The Standard Webhooks secret (<c>whsec_</c> + base64) every request to this recipient is signed with. A secret:
    /// give it through the environment, or <see cref="SigningSecretFile"/>; never in appsettings.json.
    /// </summary>
    public string? SigningSecret { get; set; }

    /// <summary>OAuth2 client credentials, when the recipient wants a bearer token (<c>:OAuth:TokenUrl</c>, <c>:ClientId</c>, <c>:ClientSecret</c> or <c>:ClientSecretFile</c>, <c>:Scope</c>).</summary>
    public OAuthOptions? OAuth { get; set; }

    /// <summary>A client certificate (PKCS#12) for mutual TLS, when the recipient asks for one; its password from <see cref="ClientCertificatePassword"/>.</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>A secret: give it through the environment.</summary>
    public string? ClientCertificatePassword { get; set; }

    /// <summary>
    /// A CA certificate (PEM or DER) that the recipient's server certificate must chain to, for an agency on a private
    /// PKI; instead of, not besides, the machine's trust store.
    /// </summary>
    public string? ServerCertificateAuthorityFile { get; set; }

    /// <summary>A file holding the signing secret (e.g. a mounted secret), read at start.</summary>
    public string? SigningSecretFile { get; set; }

    /// <summary>Configuration key of a folder of <c>&lt;recipient&gt;.whsec</c> files, used for recipients that name no secret of their own.</summary>
    public const string SecretsDirectoryKey = "Signing:SecretsDirectory";

    /// <summary>Falls back to <c>&lt;Signing:SecretsDirectory&gt;/&lt;recipient&gt;.whsec</c> when neither secret setting is given.</summary>
    public void UseSecretsDirectory(string? directory, string recipient)
    {
        if (string.IsNullOrWhiteSpace(SigningSecret) && string.IsNullOrWhiteSpace(SigningSecretFile) && !string.IsNullOrWhiteSpace(directory))
        {
            SigningSecretFile = Path.Combine(directory, recipient.ToLowerInvariant() + ".whsec");
        }
    }

    /// <summary>The signing key: from the secret, or the file. Errors name the setting, never its value.</summary>
    /// <remarks>Read once and kept: the client factory rebuilds handlers every few minutes, and a file half-way through a rotation must not break deliveries. A new secret takes effect at restart.</remarks>
    public byte[] SigningKey() => _signingKey ??= StandardWebhooks.DecodeSecret(SigningSecret ?? File.ReadAllText(SigningSecretFile!));

    byte[]? _signingKey;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(SigningSecret) == string.IsNullOrWhiteSpace(SigningSecretFile))
        {
            yield return new ValidationResult("give exactly one of SigningSecret and SigningSecretFile: every request is signed", [nameof(SigningSecret)]);
            yield break;
        }

        string? problem = null;
        try
        {
            _ = SigningKey();
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            problem = ex is FormatException ? ex.Message : $"SigningSecretFile cannot be read ({ex.GetType().Name})";
        }

        if (problem is not null)
        {
            yield return new ValidationResult(problem, [nameof(SigningSecret)]);
        }

        if (OAuth is { } oauth)
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(oauth, new ValidationContext(oauth), results, validateAllProperties: true);
            foreach (var result in results)
            {
                yield return new ValidationResult($"OAuth: {result.ErrorMessage}", [nameof(OAuth)]);
            }

            if (string.IsNullOrWhiteSpace(oauth.ClientSecret) == string.IsNullOrWhiteSpace(oauth.ClientSecretFile))
            {
                yield return new ValidationResult("OAuth: give exactly one of ClientSecret and ClientSecretFile", [nameof(OAuth)]);
            }
        }

        if (ClientCertificateFile is { } certificate && !File.Exists(certificate))
        {
            yield return new ValidationResult($"ClientCertificateFile {certificate} does not exist", [nameof(ClientCertificateFile)]);
        }

        if (ServerCertificateAuthorityFile is { } authority && !File.Exists(authority))
        {
            yield return new ValidationResult($"ServerCertificateAuthorityFile {authority} does not exist", [nameof(ServerCertificateAuthorityFile)]);
        }
    }

    /// <summary>Points a client at the recipient.</summary>
    public void Apply(HttpClient http)
    {
        // A trailing slash makes relative paths append to the base path instead of replacing its last segment.
        http.BaseAddress = new Uri(BaseUrl!.ToString().TrimEnd('/') + "/");
        // Each attempt is bounded by the resilience pipeline's timeout; the client's own would cut across retries.
        http.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
    }
}
