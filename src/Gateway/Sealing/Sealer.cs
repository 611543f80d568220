using System.Security.Cryptography;

namespace IntegrationGateway.Gateway.Sealing;

/// <summary>
/// Seals personal data the gateway must keep for a while: a refused message in the quarantine queue, a parked
/// transfer's payload in PostgreSQL. AES-256-GCM under <c>Sealing:Key</c>: kept whole (nothing is lost; it can be
/// opened to republish or deliver it), yet unreadable in the queue, its management UI, the database or a dump of
/// either without the key, which is never stored beside them. Layout: 12-byte nonce, 16-byte tag, ciphertext.
/// </summary>
public sealed class Sealer
{
    public const string Algorithm = "aes-256-gcm";

    /// <summary>32 random bytes in base64. A secret: from the environment (<c>Sealing__Key</c>) or a secrets store, never in appsettings.json.</summary>
    public const string ConfigurationKey = "Sealing:Key";
    const int NonceSize = 12;
    const int TagSize = 16;

    readonly byte[] _master;
    readonly byte[] _key;
    readonly string? _purpose;

    public Sealer(byte[] key)
        : this(key, purpose: null)
    {
    }

    Sealer(byte[] master, string? purpose)
    {
        if (master.Length != 32)
        {
            throw new ArgumentException("the sealing key must be 32 bytes", nameof(master));
        }

        _master = master;
        _purpose = purpose;
        _key = purpose is null ? master : HKDF.DeriveKey(HashAlgorithmName.SHA256, master, 32, info: System.Text.Encoding.ASCII.GetBytes($"integration-gateway sealing {purpose} v1"));
        var id = Convert.ToHexStringLower(SHA256.HashData(master).AsSpan(0, 4));
        KeyId = purpose is null ? id : $"{id}/{purpose}";
        KeyIds = purpose is null ? [id] : [KeyId, id];
    }

    /// <summary>
    /// The key ids this sealer opens: its own, and for a purpose's, the bare key's, which seals made before purposes
    /// were separated name. Such a seal is opened with the bare key when the purpose's does not open it; new seals
    /// never use the bare key, so only those older values take that path.
    /// </summary>
    public IReadOnlyList<string> KeyIds { get; }

    /// <summary>
    /// A sealer of its own for one purpose (<see cref="SealingPurposes"/>), with a key derived (HKDF) from
    /// <c>Sealing:Key</c>: what is sealed for one purpose does not open for another, so a sealed value cannot be moved
    /// from the quarantine into the ops app's key ring, or from a parked payload into the quarantine.
    /// </summary>
    public Sealer For(string purpose) => new(_master, purpose);

    /// <summary>Names the key (and its purpose) without revealing it, so an operator knows which key opens a sealed message.</summary>
    public string KeyId { get; }

    /// <summary>The key from its base64 text, with a message that says what is wrong and never repeats the text.</summary>
    public static Sealer FromBase64(string? text) => new(Hosting.ConfiguredKey.Decode(
        text, ConfigurationKey, "the gateway seals quarantined messages and parked payloads with it", exactly32: true));

    /// <param name="plaintext">What to seal.</param>
    /// <param name="associatedData">What the sealed bytes belong to (e.g. the transfer's key and recipient): opening them anywhere else fails, so they cannot be moved to another row.</param>
    public byte[] Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData = default)
    {
        var sealedBytes = new byte[NonceSize + TagSize + plaintext.Length];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), associatedData);
        return sealedBytes;
    }

    /// <summary>The original bytes; throws <see cref="AuthenticationTagMismatchException"/> under a wrong key or after tampering.</summary>
    public byte[] Open(ReadOnlySpan<byte> sealedBytes, ReadOnlySpan<byte> associatedData = default)
    {
        if (sealedBytes.Length < NonceSize + TagSize)
        {
            throw new ArgumentException("not a sealed message", nameof(sealedBytes));
        }

        var plaintext = new byte[sealedBytes.Length - NonceSize - TagSize];
        try
        {
            Decrypt(_key, sealedBytes, plaintext, associatedData);
        }
        catch (AuthenticationTagMismatchException) when (_purpose is not null)
        {
            Decrypt(_master, sealedBytes, plaintext, associatedData); // sealed before purposes were separated, under the bare key (see KeyIds)
        }

        return plaintext;
    }

    static void Decrypt(byte[] key, ReadOnlySpan<byte> sealedBytes, Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(sealedBytes[..NonceSize], sealedBytes[(NonceSize + TagSize)..], sealedBytes.Slice(NonceSize, TagSize), plaintext, associatedData);
    }
}

/// <summary>What the gateway seals, each with a key of its own derived from <c>Sealing:Key</c>.</summary>
public static class SealingPurposes
{
    public const string Quarantine = "quarantine";
    public const string ParkedPayload = "parked-payload";
    public const string OpsKeys = "ops-keys";
}
