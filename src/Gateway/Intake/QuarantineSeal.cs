using System.Security.Cryptography;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>
/// Seals a refused message before it goes to the quarantine queue: AES-256-GCM under <c>Intake:QuarantineKey</c>.
/// The message is kept whole (nothing is lost, and it can be opened and republished once the publisher's problem
/// is understood), yet no personal value it carries can be read from the queue, its management UI or a dump of
/// the broker without the key. Layout: 12-byte nonce, 16-byte tag, ciphertext.
/// </summary>
public sealed class QuarantineSeal
{
    public const string Algorithm = "aes-256-gcm";
    const int NonceSize = 12;
    const int TagSize = 16;

    readonly byte[] _key;

    public QuarantineSeal(byte[] key)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("the quarantine key must be 32 bytes", nameof(key));
        }

        _key = key;
        KeyId = Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 4));
    }

    /// <summary>Names the key without revealing it, so an operator knows which key opens a sealed message.</summary>
    public string KeyId { get; }

    /// <summary>The key from its base64 text, with a message that says what is wrong and never repeats the text.</summary>
    public static QuarantineSeal FromBase64(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new InvalidOperationException(
                "Intake:QuarantineKey is not set: the intake seals refused messages with it. Set 32 random bytes in base64, " +
                "e.g. Intake__QuarantineKey=$(head -c 32 /dev/urandom | base64) (deploy/local/env.sh does this for local runs).");
        }

        var bytes = new byte[text.Length];
        if (!Convert.TryFromBase64String(text.Trim(), bytes, out var length) || length != 32)
        {
            throw new InvalidOperationException("Intake:QuarantineKey must be 32 bytes in base64.");
        }

        return new QuarantineSeal(bytes[..length]);
    }

    public byte[] Seal(ReadOnlySpan<byte> plaintext)
    {
        var sealedBytes = new byte[NonceSize + TagSize + plaintext.Length];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize));
        return sealedBytes;
    }

    /// <summary>The original bytes; throws <see cref="AuthenticationTagMismatchException"/> under a wrong key or after tampering.</summary>
    public byte[] Open(ReadOnlySpan<byte> sealedBytes)
    {
        if (sealedBytes.Length < NonceSize + TagSize)
        {
            throw new ArgumentException("not a sealed message", nameof(sealedBytes));
        }

        var plaintext = new byte[sealedBytes.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(sealedBytes[..NonceSize], sealedBytes[(NonceSize + TagSize)..], sealedBytes.Slice(NonceSize, TagSize), plaintext);
        return plaintext;
    }
}
