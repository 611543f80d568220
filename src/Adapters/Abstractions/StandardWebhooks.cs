using System.Security.Cryptography;
using System.Text;

namespace IntegrationGateway.Adapters;

/// <summary>
/// Request signing as the Standard Webhooks specification has it (https://www.standardwebhooks.com): three headers,
/// <c>webhook-id</c> (the idempotency key: the same on every retry), <c>webhook-timestamp</c> (Unix seconds, fresh
/// per attempt) and <c>webhook-signature</c> (<c>v1,</c> + base64 HMAC-SHA256 over <c>id.timestamp.body</c> under
/// the recipient's secret). Receivers verify it with any Standard Webhooks library.
/// </summary>
public static class StandardWebhooks
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";
    const string SecretPrefix = "whsec_";

    /// <summary>The key bytes of a secret written as <c>whsec_</c> + base64 (the prefix is optional).</summary>
    public static byte[] DecodeSecret(string secret)
    {
        var text = secret.Trim();
        text = text.StartsWith(SecretPrefix, StringComparison.Ordinal) ? text[SecretPrefix.Length..] : text;
        var buffer = new byte[text.Length];
        if (!Convert.TryFromBase64String(text, buffer, out var length) || length < 24)
        {
            // Never the secret itself in the message: it ends up in logs.
            throw new FormatException("a signing secret must be 'whsec_' followed by at least 24 bytes in base64");
        }

        return buffer[..length];
    }

    /// <summary>A new random secret in the <c>whsec_</c> form.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static string Sign(byte[] key, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
    }
}

/// <summary>Signs every request a recipient's client sends, per attempt (inside the retries), with that recipient's key.</summary>
public sealed class StandardWebhooksSigningHandler(byte[] key, TimeProvider time) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var id = request.Headers.TryGetValues(HttpDelivery.IdempotencyKeyHeader, out var keys) ? keys.First() : Guid.NewGuid().ToString("D");
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        request.Headers.Remove(StandardWebhooks.IdHeader);
        request.Headers.Remove(StandardWebhooks.TimestampHeader);
        request.Headers.Remove(StandardWebhooks.SignatureHeader);
        request.Headers.Add(StandardWebhooks.IdHeader, id);
        request.Headers.Add(StandardWebhooks.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(StandardWebhooks.SignatureHeader, StandardWebhooks.Sign(key, id, timestamp, body));
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
