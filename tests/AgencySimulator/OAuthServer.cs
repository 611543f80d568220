using System.Collections.Concurrent;
using System.Text;

namespace IntegrationGateway.AgencySimulator;

/// <summary>
/// A token endpoint for recipients that want OAuth2 (<c>Recipients:{id}:OAuthClientId</c> and
/// <c>:OAuthClientSecret</c>): the client-credentials grant with HTTP Basic client authentication, tokens that live
/// <c>OAuth:TokenLifetimeSeconds</c> (3600 unless set), and the check each transfer to such a recipient must pass.
/// </summary>
public sealed class OAuthServer(IConfiguration configuration, TimeProvider time)
{
    readonly ConcurrentDictionary<string, (string Recipient, DateTimeOffset ExpiresAt)> _tokens = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, int> _issued = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, int> _refused = new(StringComparer.Ordinal);

    public int IssuedFor(string recipient) => _issued.GetValueOrDefault(recipient);

    public int RefusedFor(string recipient) => _refused.GetValueOrDefault(recipient);

    /// <summary>Forgets every token issued, as an agency rotating its keys would: the next request gets a 401.</summary>
    public void RevokeAll() => _tokens.Clear();

    public bool Protects(string recipient) => configuration[$"Recipients:{recipient}:OAuthClientId"] is not null;

    public IResult Token(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            return Results.Json(new { error = "invalid_client" }, statusCode: StatusCodes.Status401Unauthorized);
        }

        var decoded = new byte[header.Length];
        if (!Convert.TryFromBase64String(header["Basic ".Length..], decoded, out var length) || !request.HasFormContentType)
        {
            return Results.Json(new { error = "invalid_request" }, statusCode: StatusCodes.Status400BadRequest);
        }

        var pair = Encoding.UTF8.GetString(decoded, 0, length).Split(':', 2);
        var (clientId, secret) = (Uri.UnescapeDataString(pair[0]), pair.Length > 1 ? Uri.UnescapeDataString(pair[1]) : "");
        var recipient = configuration.GetSection("Recipients").GetChildren()
            .FirstOrDefault(r => r["OAuthClientId"] == clientId && r["OAuthClientSecret"] == secret)?.Key;
        if (recipient is null || request.Form["grant_type"] != "client_credentials")
        {
            return Results.Json(new { error = recipient is null ? "invalid_client" : "unsupported_grant_type" }, statusCode: StatusCodes.Status400BadRequest);
        }

        var lifetime = int.TryParse(configuration["OAuth:TokenLifetimeSeconds"], out var seconds) ? seconds : 3600;
        var token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        _tokens[token] = (recipient.ToLowerInvariant(), time.GetUtcNow().AddSeconds(lifetime));
        _issued.AddOrUpdate(recipient.ToLowerInvariant(), 1, (_, n) => n + 1);
        return Results.Json(new { access_token = token, token_type = "Bearer", expires_in = lifetime });
    }

    /// <summary>Null when the request carries a live token issued for this recipient; otherwise why not.</summary>
    public string? Problem(string recipient, HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        var problem = !header.StartsWith("Bearer ", StringComparison.Ordinal) ? "a bearer token is required"
            : !_tokens.TryGetValue(header["Bearer ".Length..], out var issued) || issued.Recipient != recipient ? "the token is not one issued for this recipient"
            : time.GetUtcNow() >= issued.ExpiresAt ? "the token has expired"
            : null;
        if (problem is not null)
        {
            _refused.AddOrUpdate(recipient, 1, (_, n) => n + 1);
        }

        return problem;
    }
}
