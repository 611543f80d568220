using System.Net;
using System.Text.RegularExpressions;
using IntegrationGateway.Gateway.Ops;

namespace IntegrationGateway.IntegrationTests.Infrastructure;

/// <summary>The ops app's test users (one per role, all with the same password) and a signed-in client for each.</summary>
internal static partial class OpsSignIn
{
    public const string Password = "correct horse battery staple";

    static readonly Lazy<string> Hash = new(() => OpsAccess.HashPassword(Password));

    /// <summary>The school the controller-scoped users (<c>school-operator</c>, ...) work for: school-003, BRIN 12AB.</summary>
    public const string School = "school-003";

    /// <summary>
    /// Users <c>operator</c>, <c>dpo</c> and <c>admin</c>, each with the role of that name, the platform's staff (every
    /// controller); and <c>school-operator</c>, <c>school-dpo</c>, <c>school-admin</c>, the same roles for <see cref="School"/> only.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string?>> Users => OpsRoles.All.SelectMany(role => new KeyValuePair<string, string?>[]
    {
        new($"Ops:Users:{role}:PasswordHash", Hash.Value),
        new($"Ops:Users:{role}:Roles:0", role),
        new($"Ops:Users:{role}:Controllers:0", OpsScope.Platform),
        new($"Ops:Users:{role}:TotpSecret", TotpSecret),
        new($"Ops:Users:school-{role}:PasswordHash", Hash.Value),
        new($"Ops:Users:school-{role}:Roles:0", role),
        new($"Ops:Users:school-{role}:Controllers:0", School),
        new($"Ops:Users:school-{role}:TotpSecret", TotpSecret),
    }).Append(new("Ops:SignInAttemptsPerMinute", "1000")); // the tests sign in often, from one address

    /// <summary>Every test user's TOTP secret (base32): a test's own, known to its authenticator, <see cref="NextCodeAsync"/>.</summary>
    public const string TotpSecret = "KRSXG5CUN5ZGQZLSKRSXG5CUN5ZGQZLS";

    static readonly Dictionary<string, long> LastStep = [];

    /// <summary>Six digits that are none of the codes the gateway would take around now (two steps either side): a wrong code for sure.</summary>
    public static string WrongCode(int nth = 0)
    {
        var totp = new OtpNet.Totp(OtpNet.Base32Encoding.ToBytes(TotpSecret));
        var valid = Enumerable.Range(-2, 5).Select(d => totp.ComputeTotp(TimeProvider.System.GetUtcNow().AddSeconds(30 * d).UtcDateTime)).ToHashSet();
        var wrong = Enumerable.Range(0, 10).Select(i => new string((char)('0' + i), 6)).Where(c => !valid.Contains(c)).ToList();
        return wrong[nth % wrong.Count];
    }

    /// <summary>
    /// A code of <paramref name="user"/>'s authenticator the gateway has not seen yet: it takes a step either side of
    /// now, each later than the last it accepted, so this gives the earliest such step, and waits for the clock to reach
    /// the next step when all three were used.
    /// </summary>
    public static async Task<string> NextCodeAsync(string user)
    {
        var totp = new OtpNet.Totp(OtpNet.Base32Encoding.ToBytes(TotpSecret));
        while (true)
        {
            var now = TimeProvider.System.GetUtcNow();
            var current = now.ToUnixTimeSeconds() / 30;
            lock (LastStep)
            {
                var step = Math.Max(current - 1, LastStep.GetValueOrDefault(user, long.MinValue) + 1);
                if (step <= current + 1)
                {
                    LastStep[user] = step;
                    return totp.ComputeTotp(DateTimeOffset.FromUnixTimeSeconds(step * 30).UtcDateTime);
                }
            }

            await Task.Delay(DateTimeOffset.FromUnixTimeSeconds((current + 1) * 30) - now + TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>A client that keeps cookies and does not follow redirects; signed in as <paramref name="user"/> unless it is null.</summary>
    public static async Task<HttpClient> ClientAsync(Uri gateway, string? user, string password = Password)
    {
        var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = gateway };
        if (user is null)
        {
            return http;
        }

        using var response = await PostFormAsync(http, "/ops/signin", new() { ["user"] = user, ["password"] = password });
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString.StartsWith("/ops/signin/code", StringComparison.Ordinal) != true)
        {
            throw new InvalidOperationException($"signing in as {user} gave {(int)response.StatusCode} {response.Headers.Location}, not the second factor's page");
        }

        using var code = await PostFormAsync(http, "/ops/signin/code", new() { ["code"] = await NextCodeAsync(user) });
        if (code.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"the second factor of {user} gave {(int)code.StatusCode}");
        }

        return http;
    }

    /// <summary>Posts a form the way a browser does after loading a page: with the antiforgery token that page carried.</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient http, string path, Dictionary<string, string> form)
    {
        var page = await http.GetStringAsync("/ops/signin");
        form["__RequestVerificationToken"] = Token().Match(page).Groups[1].Value;
        return await http.PostAsync(path, new FormUrlEncodedContent(form));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex Token();
}
