using System.Net;
using IntegrationGateway.Gateway.Ops;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests.Security;

/// <summary>
/// Staff the ops app signs in itself need their password and a second factor (seed 002: multi-factor login for
/// everyone with access to the registration data): a TOTP code, once, or a recovery code, once. Each refusal is in
/// the audit, and so is how every sign-in was made.
/// </summary>
[Trait("Tier", "Security")]
public sealed class SecondFactorTests(ITestOutputHelper output)
{
    static readonly string[] RecoveryCodes = ["ABCD-EFGH-IJKL-MNOP", "QRST-UVWX-YZ23-4567"];

    static Dictionary<string, string?> Settings() => new()
    {
        // A user without a second factor, where one is required (the default).
        ["Ops:Users:no-factor:PasswordHash"] = OpsAccess.HashPassword(OpsSignIn.Password),
        ["Ops:Users:no-factor:Roles:0"] = OpsRoles.Operator,
        ["Ops:Users:no-factor:Controllers:0"] = OpsScope.Platform,
        ["Ops:Users:operator:RecoveryCodeHashes:0"] = SecondFactor.RecoveryCodeHash(RecoveryCodes[0]),
        ["Ops:Users:operator:RecoveryCodeHashes:1"] = SecondFactor.RecoveryCodeHash(RecoveryCodes[1]),
    };

    /// <summary>A client whose password step is done: it holds the pending sign-in, and no sign-in.</summary>
    static async Task<HttpClient> PasswordOnlyAsync(Uri gateway, string user)
    {
        var http = await OpsSignIn.ClientAsync(gateway, null);
        using var response = await OpsSignIn.PostFormAsync(http, "/ops/signin", new() { ["user"] = user, ["password"] = OpsSignIn.Password });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/ops/signin/code", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
        return http;
    }

    static async Task<string> TransfersAsync(HttpClient http)
    {
        using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/ops/transfers") { Headers = { { "Accept", "text/html" } } });
        return response.StatusCode == HttpStatusCode.OK ? "200" : $"{(int)response.StatusCode} {response.Headers.Location}";
    }

    static async Task<(HttpStatusCode Status, string Body)> CodeAsync(HttpClient http, string code)
    {
        using var response = await OpsSignIn.PostFormAsync(http, "/ops/signin/code", new() { ["code"] = code });
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task APasswordAlone_SignsNobodyIn_TheCodeDoes_OnceOnly_AndTheAuditSaysHow()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(Settings());
        var url = new Uri(gateway.Urls.First());
        var attacks = new List<string>();

        // The password step done, no code: no page opens.
        using var passwordOnly = await PasswordOnlyAsync(url, "admin");
        var withoutCode = await TransfersAsync(passwordOnly);
        Assert.StartsWith("302", withoutCode);
        attacks.Add($"the password without the code, then /ops/transfers: refused ({withoutCode.Split(' ')[0]}, to sign in)");

        // A wrong code: refused.
        var wrong = await CodeAsync(passwordOnly, OpsSignIn.WrongCode());
        Assert.Equal(HttpStatusCode.OK, wrong.Status);
        Assert.Contains("does not open a sign-in", wrong.Body);
        Assert.StartsWith("302", await TransfersAsync(passwordOnly));
        attacks.Add("a wrong code: refused");

        // The right code: signed in.
        var code = await OpsSignIn.NextCodeAsync("admin");
        var right = await CodeAsync(passwordOnly, code);
        Assert.Equal(HttpStatusCode.Redirect, right.Status);
        Assert.Equal("200", await TransfersAsync(passwordOnly));

        // The same code again, by someone who saw it (and knows the password): refused.
        using var replay = await PasswordOnlyAsync(url, "admin");
        var replayed = await CodeAsync(replay, code);
        Assert.Contains("does not open a sign-in", replayed.Body);
        Assert.StartsWith("302", await TransfersAsync(replay));
        attacks.Add("the same code again: refused");

        // A user with no second factor, where one is required: refused, told why.
        using var unenrolled = await OpsSignIn.ClientAsync(url, null);
        using var noFactor = await OpsSignIn.PostFormAsync(unenrolled, "/ops/signin", new() { ["user"] = "no-factor", ["password"] = OpsSignIn.Password });
        Assert.Equal(HttpStatusCode.OK, noFactor.StatusCode);
        Assert.Contains("no second factor yet", await noFactor.Content.ReadAsStringAsync());
        Assert.StartsWith("302", await TransfersAsync(unenrolled));
        attacks.Add("a user without a second factor: refused");

        // The code page without the password step: back to the start.
        using var stranger = await OpsSignIn.ClientAsync(url, null);
        var skipped = await CodeAsync(stranger, await OpsSignIn.NextCodeAsync("admin"));
        Assert.Equal(HttpStatusCode.Redirect, skipped.Status);
        Assert.StartsWith("302", await TransfersAsync(stranger));
        attacks.Add("a code without the password step: refused");

        await gateway.StopAsync(); // refusals after the first of a minute are written as one row, at the latest when it stops
        var signedIn = await AuditRows.OfAsync(OpsAudit.Actions.SignedIn);
        var refused = await AuditRows.OfAsync(OpsAudit.Actions.SignInRefused);
        output.WriteLine($"signed in: {string.Join("; ", signedIn)}\nrefused: {string.Join("; ", refused)}\n{string.Join("\n", attacks.Select(a => "attack: " + a))}");
        Assert.Equal(["admin signed-in  admin; by pwd + otp"], signedIn);
        Assert.Contains(refused, r => r.StartsWith("admin sign-in-refused from 127.0.0.1", StringComparison.Ordinal) && r.Contains("second factor wrong", StringComparison.Ordinal));
        Assert.Equal(2, AuditRows.Refusals(refused, "admin"));
        Assert.Single(refused, r => r.StartsWith("no-factor sign-in-refused", StringComparison.Ordinal) && r.Contains("no second factor enrolled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AfterFiveWrongCodes_EvenTheRightOneIsRefused_ForAWhile_FromAnyAddress()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(Settings());
        var url = new Uri(gateway.Urls.First());
        for (var i = 0; i < SecondFactor.MaxFailures; i++)
        {
            using var guesser = await PasswordOnlyAsync(url, "dpo"); // a fresh pending sign-in each time, as from another address
            Assert.Contains("does not open a sign-in", (await CodeAsync(guesser, OpsSignIn.WrongCode(i))).Body);
        }

        using var owner = await PasswordOnlyAsync(url, "dpo");
        var right = await CodeAsync(owner, await OpsSignIn.NextCodeAsync("dpo"));
        output.WriteLine($"after {SecondFactor.MaxFailures} wrong codes, the right one: {(int)right.Status}");
        Assert.Contains("does not open a sign-in", right.Body);
        Assert.StartsWith("302", await TransfersAsync(owner));
        output.WriteLine($"attack: guessing a user's code from many addresses: refused after {SecondFactor.MaxFailures} wrong ones");
    }

    [Fact]
    public async Task ARecoveryCode_OpensOneSignIn_ThenNoMore()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(Settings());
        var url = new Uri(gateway.Urls.First());

        using var first = await PasswordOnlyAsync(url, "operator");
        Assert.Equal(HttpStatusCode.Redirect, (await CodeAsync(first, RecoveryCodes[0].ToLowerInvariant())).Status); // typed as it comes, any case
        Assert.Equal("200", await TransfersAsync(first));

        using var again = await PasswordOnlyAsync(url, "operator");
        Assert.Contains("does not open a sign-in", (await CodeAsync(again, RecoveryCodes[0])).Body);
        Assert.StartsWith("302", await TransfersAsync(again));
        output.WriteLine("attack: a recovery code used twice: refused");

        var signedIn = await AuditRows.OfAsync(OpsAudit.Actions.SignedIn);
        output.WriteLine($"signed in: {string.Join("; ", signedIn)}");
        Assert.Equal(["operator signed-in  operator; by pwd + recovery-code"], signedIn);
    }
}
