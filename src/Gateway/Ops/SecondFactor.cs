using System.Security.Cryptography;
using System.Text;
using Npgsql;
using OtpNet;

namespace IntegrationGateway.Gateway.Ops;

/// <summary>
/// The ops app's own second factor, for the users it signs in itself. Seed 002 (line 488) obliges every employee with
/// access to the Centrale Registratietool to use multi-factor authentication (there through the Flemish government's
/// ACM/IDM); the ops app shows transfers about the same people, so it holds its users to the same: a TOTP code (RFC 6238: SHA-1, 6 digits, 30 s; a step either side allowed for
/// clock drift), or one of the user's recovery codes. A code opens one sign-in: a TOTP step at most once per user and
/// never one older than the last accepted, each recovery code once; both remembered in the database, so every
/// gateway sharing it refuses a replay.
/// </summary>
public sealed class SecondFactor(NpgsqlDataSource dataSource, TimeProvider time)
{
    /// <summary>How a sign-in's second factor was given, as the audit and the sign-in's <c>amr</c> claim say it.</summary>
    public static class Kinds
    {
        public const string Totp = "otp";
        public const string RecoveryCode = "recovery-code";
    }

    /// <summary>Wrong codes a user may give within <see cref="FailureWindow"/> before every code of theirs is refused until it has passed.</summary>
    public const int MaxFailures = 5;

    public static readonly TimeSpan FailureWindow = TimeSpan.FromMinutes(15);

    /// <summary>Whether the user has a second factor at all.</summary>
    public static bool IsEnrolled(OpsUser user) => user.TotpSecret is { Length: > 0 } || user.TotpSecretFile is { Length: > 0 };

    /// <summary>The kind of factor <paramref name="code"/> is for this user (and uses it up), or null when it opens nothing.</summary>
    public async Task<string?> UseAsync(string name, OpsUser user, string code, CancellationToken cancellationToken)
    {
        if (await LockedAsync(name, cancellationToken))
        {
            return null; // even the right code: guesses from many addresses end here
        }

        var kind = await CheckAsync(name, user, code, cancellationToken);
        if (kind is not null)
        {
            await using var clear = dataSource.CreateCommand("DELETE FROM ops_second_factor_failure WHERE user_name = $1");
            clear.Parameters.Add(new() { Value = name });
            await clear.ExecuteNonQueryAsync(cancellationToken);
            return kind;
        }

        // A wrong code counts toward the cap; the count starts again once a window has passed since its first.
        await using var count = dataSource.CreateCommand("""
            INSERT INTO ops_second_factor_failure (user_name, failures, first_failed_at) VALUES ($1, 1, $2)
            ON CONFLICT (user_name) DO UPDATE SET
                failures = CASE WHEN ops_second_factor_failure.first_failed_at > $3 THEN ops_second_factor_failure.failures + 1 ELSE 1 END,
                first_failed_at = CASE WHEN ops_second_factor_failure.first_failed_at > $3 THEN ops_second_factor_failure.first_failed_at ELSE $2 END
            """);
        count.Parameters.Add(new() { Value = name });
        count.Parameters.Add(new() { Value = time.GetUtcNow() });
        count.Parameters.Add(new() { Value = time.GetUtcNow() - FailureWindow });
        await count.ExecuteNonQueryAsync(cancellationToken);
        return null;
    }

    /// <summary>Whether the user gave <see cref="MaxFailures"/> wrong codes within the last <see cref="FailureWindow"/>.</summary>
    public async Task<bool> LockedAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT failures >= $3 FROM ops_second_factor_failure WHERE user_name = $1 AND first_failed_at > $2");
        command.Parameters.Add(new() { Value = name });
        command.Parameters.Add(new() { Value = time.GetUtcNow() - FailureWindow });
        command.Parameters.Add(new() { Value = MaxFailures });
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    async Task<string?> CheckAsync(string name, OpsUser user, string code, CancellationToken cancellationToken)
    {
        var given = new string(code.Where(c => !char.IsWhiteSpace(c) && c != '-').ToArray());
        if (given.Length == 6 && given.All(char.IsAsciiDigit) && SecretOf(user) is { } secret)
        {
            var totp = new Totp(secret);
            if (!totp.VerifyTotp(time.GetUtcNow().UtcDateTime, given, out var step, VerificationWindow.RfcSpecifiedNetworkDelay))
            {
                return null;
            }

            // Accepted only when later than every step this user signed in with before (here or on another gateway).
            await using var command = dataSource.CreateCommand("""
                INSERT INTO ops_second_factor_step (user_name, last_step) VALUES ($1, $2)
                ON CONFLICT (user_name) DO UPDATE SET last_step = EXCLUDED.last_step WHERE ops_second_factor_step.last_step < EXCLUDED.last_step
                """);
            command.Parameters.Add(new() { Value = name });
            command.Parameters.Add(new() { Value = step });
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1 ? Kinds.Totp : null;
        }

        var hash = RecoveryCodeHash(given);
        if (!user.RecoveryCodeHashes.Any(h => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(h.ToLowerInvariant()), Encoding.ASCII.GetBytes(hash))))
        {
            return null;
        }

        await using var use = dataSource.CreateCommand("INSERT INTO ops_second_factor_recovery (user_name, code_hash, used_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING");
        use.Parameters.Add(new() { Value = name });
        use.Parameters.Add(new() { Value = hash });
        use.Parameters.Add(new() { Value = time.GetUtcNow() });
        return await use.ExecuteNonQueryAsync(cancellationToken) == 1 ? Kinds.RecoveryCode : null;
    }

    /// <summary>The user's TOTP secret (base32, as authenticator apps take it), from the setting or its file; null when unset or unreadable.</summary>
    static byte[]? SecretOf(OpsUser user)
    {
        try
        {
            return Hosting.ConfiguredSecret.Read(user.TotpSecret, user.TotpSecretFile) is { } text
                ? Base32Encoding.ToBytes(text.Replace(" ", "", StringComparison.Ordinal).TrimEnd('='))
                : null;
        }
        catch (ArgumentException)
        {
            return null; // not base32
        }
    }

    /// <summary>How a recovery code is kept in <c>Ops:Users:&lt;name&gt;:RecoveryCodeHashes</c>: SHA-256 in hex of the code without separators, upper case (80 random bits each: no slow hash needed).</summary>
    public static string RecoveryCodeHash(string code) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(new string(code.Where(char.IsAsciiLetterOrDigit).ToArray()).ToUpperInvariant())));

    /// <summary>A new enrolment: a 160-bit secret, its otpauth URI for an authenticator app, and ten recovery codes.</summary>
    public static (string Secret, string Uri, IReadOnlyList<string> RecoveryCodes) Enrol(string name)
    {
        var secret = Base32Encoding.ToString(KeyGeneration.GenerateRandomKey(20)).TrimEnd('=');
        var uri = $"otpauth://totp/IntegrationGateway:{Uri.EscapeDataString(name)}?secret={secret}&issuer=IntegrationGateway&algorithm=SHA1&digits=6&period=30";
        var codes = Enumerable.Range(0, 10).Select(_ =>
        {
            var code = Base32Encoding.ToString(RandomNumberGenerator.GetBytes(10)); // 16 characters, 80 bits
            return $"{code[..4]}-{code[4..8]}-{code[8..12]}-{code[12..16]}";
        }).ToList();
        return (secret, uri, codes);
    }
}
