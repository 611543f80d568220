namespace IntegrationGateway.Gateway.Hosting;

/// <summary>A key given in configuration as base64, read with messages that say what is wrong and never repeat the text.</summary>
internal static class ConfiguredKey
{
    /// <param name="text">The configured value.</param>
    /// <param name="setting">The setting's name, e.g. <c>Sealing:Key</c>.</param>
    /// <param name="purpose">What the key is for, for the message when it is missing.</param>
    /// <param name="exactly32">32 bytes exactly (an AES-256 key), or at least 32.</param>
    /// <param name="note">A last sentence for the message when it is missing, or empty.</param>
    public static byte[] Decode(string? text, string setting, string purpose, bool exactly32, string note = "")
    {
        var size = exactly32 ? "32" : "at least 32";
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new InvalidOperationException(
                $"{setting} is not set: {purpose}. Set {size} random bytes in base64, " +
                $"e.g. {setting.Replace(":", "__", StringComparison.Ordinal)}=$(head -c 32 /dev/urandom | base64) (deploy/local/env.sh does this for local runs).{note}");
        }

        var bytes = new byte[text.Length];
        if (!Convert.TryFromBase64String(text.Trim(), bytes, out var length) || (exactly32 ? length != 32 : length < 32))
        {
            throw new InvalidOperationException($"{setting} must be {size} bytes in base64.");
        }

        return bytes[..length];
    }
}

/// <summary>A secret given either in a setting or in a file the setting's <c>…File</c> sibling names (a mounted secret).</summary>
public static class ConfiguredSecret
{
    /// <summary>The setting's value, else the file's content, trimmed; null when neither is set or the file cannot be read.</summary>
    public static string? Read(string? value, string? file)
    {
        if (value is { Length: > 0 })
        {
            return value.Trim();
        }

        try
        {
            return file is { Length: > 0 } && File.Exists(file) ? File.ReadAllText(file).Trim() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
