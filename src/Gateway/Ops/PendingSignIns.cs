using Microsoft.AspNetCore.DataProtection;

namespace IntegrationGateway.Gateway.Ops;

/// <summary>
/// A sign-in whose password was right and whose second factor is still to come: kept in a cookie of its own, sealed
/// with the app's data-protection keys and good for <see cref="Lasts"/>. It names the user and the stamp of what their
/// sign-in rests on (<see cref="OpsAccess.Stamp"/>: password, roles, second factor), so a change meanwhile ends it; it
/// is no sign-in, and opens no page but the code's.
/// </summary>
public sealed class PendingSignIns(IDataProtectionProvider protection, TimeProvider time)
{
    public const string CookieName = "ig-ops-pending";

    public static readonly TimeSpan Lasts = TimeSpan.FromMinutes(5);

    readonly ITimeLimitedDataProtector _protector = protection.CreateProtector("integration-gateway ops pending sign-in v1").ToTimeLimitedDataProtector();

    public void Start(HttpContext http, string name, OpsUser user) =>
        http.Response.Cookies.Append(CookieName, _protector.Protect($"{name}\n{OpsAccess.Stamp(user)}", time.GetUtcNow().Add(Lasts)), Options(http));

    /// <summary>The user whose second factor is awaited, while the password that let them this far is still theirs; null otherwise.</summary>
    public (string Name, OpsUser User)? Find(HttpContext http, OpsOptions options)
    {
        if (http.Request.Cookies[CookieName] is not { } sealedText)
        {
            return null;
        }

        try
        {
            var parts = _protector.Unprotect(sealedText, out var expires).Split('\n', 2);
            return expires > time.GetUtcNow() && parts.Length == 2 && options.Users.TryGetValue(parts[0], out var user) && OpsAccess.Stamp(user) == parts[1]
                ? (parts[0], user)
                : null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    public static void End(HttpContext http) => http.Response.Cookies.Delete(CookieName, Options(http));

    static CookieOptions Options(HttpContext http) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = http.Request.IsHttps,
        Path = "/ops/signin",
        MaxAge = Lasts,
    };
}
