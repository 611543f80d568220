using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace IntegrationGateway.Adapters;

/// <summary>OAuth2 client credentials for one recipient (<c>Recipients:{id}:OAuth</c>); the client secret from configuration, the environment or a file.</summary>
public sealed class OAuthOptions
{
    [Required]
    public Uri? TokenUrl { get; set; }

    [Required]
    public string ClientId { get; set; } = "";

    /// <summary>A secret: give it through the environment, or <see cref="ClientSecretFile"/>.</summary>
    public string? ClientSecret { get; set; }

    public string? ClientSecretFile { get; set; }

    public string? Scope { get; set; }

    public string Secret() => (ClientSecret ?? File.ReadAllText(ClientSecretFile ?? throw new InvalidOperationException("OAuth: give ClientSecret or ClientSecretFile"))).Trim();
}

/// <summary>
/// Tokens per recipient, acquired with the client-credentials grant (client authenticated with HTTP Basic, RFC 6749
/// 2.3.1), cached until shortly before they expire, refreshed when they are about to or when the recipient answers
/// 401. Kept for the life of the process, outliving the client factory's handler rotation. Never logs a token or secret.
/// </summary>
public sealed class OAuthTokenCache(IHttpClientFactory clients, TimeProvider time)
{
    public const string TokenClient = "oauth-token";
    static readonly TimeSpan Margin = TimeSpan.FromSeconds(30);
    readonly ConcurrentDictionary<string, (string Token, DateTimeOffset ExpiresAt, TimeSpan Lifetime)> _tokens = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    /// <summary>How many tokens were fetched, per recipient (for tests and the ops view).</summary>
    public ConcurrentDictionary<string, int> Acquired { get; } = new(StringComparer.Ordinal);

    /// <summary>A valid token; a new one when the cached one is about to expire or is <paramref name="rejected"/> (the recipient answered 401 to it).</summary>
    public async Task<string> TokenAsync(string recipient, OAuthOptions options, string? rejected, CancellationToken cancellationToken)
    {
        if (Usable(recipient, rejected) is { } token)
        {
            return token;
        }

        var gate = _locks.GetOrAdd(recipient, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another request may have fetched one while this one waited.
            if (Usable(recipient, rejected) is { } fetched)
            {
                return fetched;
            }

            var fresh = await AcquireAsync(options, cancellationToken).ConfigureAwait(false);
            _tokens[recipient] = fresh;
            Acquired.AddOrUpdate(recipient, 1, (_, n) => n + 1);
            return fresh.Token;
        }
        finally
        {
            gate.Release();
        }
    }

    string? Usable(string recipient, string? rejected) =>
        // Renewed 30 s before expiry, or halfway through a shorter lifetime, so a short-lived token is still reused.
        _tokens.TryGetValue(recipient, out var cached) && cached.Token != rejected
        && time.GetUtcNow() < cached.ExpiresAt - TimeSpan.FromTicks(Math.Min(Margin.Ticks, cached.Lifetime.Ticks / 2)) ? cached.Token : null;

    async Task<(string Token, DateTimeOffset ExpiresAt, TimeSpan Lifetime)> AcquireAsync(OAuthOptions options, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, options.TokenUrl);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
            $"{Uri.EscapeDataString(options.ClientId)}:{Uri.EscapeDataString(options.Secret())}")));
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
        if (!string.IsNullOrWhiteSpace(options.Scope))
        {
            form.Add(new("scope", options.Scope));
        }

        request.Content = new FormUrlEncodedContent(form);
        using var response = await clients.CreateClient(TokenClient).SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            // The token endpoint's body may echo what it was sent: only the status goes into the message.
            throw new HttpRequestException($"the token endpoint {options.TokenUrl} answered {(int)response.StatusCode}", null, response.StatusCode);
        }

        using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
        var token = json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("access_token", out var access) && access.ValueKind == JsonValueKind.String
            ? access.GetString()!
            : throw new HttpRequestException($"the token endpoint {options.TokenUrl} sent no access_token");
        var lifetime = LifetimeOf(json.RootElement);
        return (token, time.GetUtcNow() + lifetime, lifetime);
    }

    /// <summary>The shortest and longest a token is kept, whatever <c>expires_in</c> says.</summary>
    public static readonly (TimeSpan Min, TimeSpan Max) LifetimeBounds = (TimeSpan.FromSeconds(1), TimeSpan.FromHours(24));

    /// <summary>
    /// How long a token response's token is kept: its <c>expires_in</c> (RFC 6749 5.1; some providers send it as a
    /// string), 5 minutes without one, held between <see cref="LifetimeBounds"/>. A zero or negative value would
    /// fetch a token for every request; a token endpoint naming years would keep a revoked client's token that long.
    /// </summary>
    public static TimeSpan LifetimeOf(JsonElement response)
    {
        var seconds = response.ValueKind == JsonValueKind.Object && response.TryGetProperty("expires_in", out var expires)
            && ((expires.ValueKind == JsonValueKind.Number && expires.TryGetDouble(out var n))
                || (expires.ValueKind == JsonValueKind.String && double.TryParse(expires.GetString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out n)))
            && double.IsFinite(n)
            ? n
            : 300;
        return TimeSpan.FromSeconds(Math.Clamp(Math.Floor(seconds), LifetimeBounds.Min.TotalSeconds, LifetimeBounds.Max.TotalSeconds));
    }
}

/// <summary>Puts the recipient's bearer token on each attempt; on a 401 it fetches a fresh token and tries once more.</summary>
public sealed class OAuthHandler(string recipient, OAuthOptions options, OAuthTokenCache tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await tokens.TokenAsync(recipient, options, rejected: null, cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        response.Dispose();
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.TokenAsync(recipient, options, rejected: token, cancellationToken).ConfigureAwait(false));
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
