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
        new($"Ops:Users:school-{role}:PasswordHash", Hash.Value),
        new($"Ops:Users:school-{role}:Roles:0", role),
        new($"Ops:Users:school-{role}:Controllers:0", School),
    }).Append(new("Ops:SignInAttemptsPerMinute", "1000")); // the tests sign in often, from one address

    /// <summary>A client that keeps cookies and does not follow redirects; signed in as <paramref name="user"/> unless it is null.</summary>
    public static async Task<HttpClient> ClientAsync(Uri gateway, string? user, string password = Password)
    {
        var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = gateway };
        if (user is null)
        {
            return http;
        }

        using var response = await PostFormAsync(http, "/ops/signin", new() { ["user"] = user, ["password"] = password });
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"signing in as {user} gave {(int)response.StatusCode}");
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
