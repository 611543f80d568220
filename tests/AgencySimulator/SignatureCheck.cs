using System.Security.Cryptography;
using System.Text;

namespace IntegrationGateway.AgencySimulator;

/// <summary>
/// Verifies a request's Standard Webhooks signature the way an agency would, written from the specification and not
/// shared with the gateway's signer, so a mistake on one side shows as a rejection: <c>webhook-id</c>,
/// <c>webhook-timestamp</c> within five minutes, and one of the space-separated <c>v1,</c> signatures equal to the
/// HMAC-SHA256 of <c>id.timestamp.body</c> under the recipient's secret.
/// </summary>
public sealed class SignatureCheck(IConfiguration configuration, TimeProvider time)
{
    static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    /// <summary>Null when the signature is valid; otherwise what is wrong (no secret, no headers, stale, mismatch).</summary>
    public string? Problem(string recipient, IHeaderDictionary headers, byte[] body)
    {
        var key = KeyOf(recipient);
        if (key is null)
        {
            return "no signing secret is configured for this recipient";
        }

        var id = headers["webhook-id"].ToString();
        var timestamp = headers["webhook-timestamp"].ToString();
        var signatures = headers["webhook-signature"].ToString();
        if (id.Length == 0 || timestamp.Length == 0 || signatures.Length == 0)
        {
            return "webhook-id, webhook-timestamp and webhook-signature are required";
        }

        if (!long.TryParse(timestamp, out var seconds) || (time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > Tolerance)
        {
            return "webhook-timestamp is missing or too far from now";
        }

        // One-shot over id.timestamp.body in a pooled buffer: no HMAC object or concatenated array per request.
        var prefixLength = Encoding.UTF8.GetByteCount(id) + Encoding.UTF8.GetByteCount(timestamp) + 2;
        var signed = System.Buffers.ArrayPool<byte>.Shared.Rent(prefixLength + body.Length);
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        try
        {
            var at = Encoding.UTF8.GetBytes(id, signed);
            signed[at++] = (byte)'.';
            at += Encoding.UTF8.GetBytes(timestamp, signed.AsSpan(at));
            signed[at++] = (byte)'.';
            body.CopyTo(signed.AsSpan(at));
            HMACSHA256.HashData(key, signed.AsSpan(0, at + body.Length), expected);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(signed);
        }

        foreach (var signature in signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = signature.Split(',', 2);
            if (parts is ["v1", var value] && TryBase64(value) is { } given && CryptographicOperations.FixedTimeEquals(given, expected))
            {
                return null;
            }
        }

        return "no webhook-signature matches";
    }

    readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte[]?> _keys = new(StringComparer.Ordinal);

    /// <summary>The recipient's secret, read once (configuration, else its file): not from disk on every request.</summary>
    byte[]? KeyOf(string recipient) => _keys.GetOrAdd(recipient, ReadKey);

    byte[]? ReadKey(string recipient)
    {
        var secret = configuration[$"Recipients:{recipient}:SigningSecret"];
        var directory = configuration["Signing:SecretsDirectory"];
        if (secret is null && directory is not null && File.Exists(Path.Combine(directory, recipient + ".whsec")))
        {
            secret = File.ReadAllText(Path.Combine(directory, recipient + ".whsec"));
        }

        return secret is null ? null : TryBase64(secret.Trim().Replace("whsec_", "", StringComparison.Ordinal));
    }

    static byte[]? TryBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var length) ? buffer[..length] : null;
    }
}
