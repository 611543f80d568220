using System.Net;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests.Security;

/// <summary>After signing in, the browser goes back to a page of the ops app only: a return address elsewhere is not followed (no open redirect for phishing).</summary>
[Trait("Tier", "Security")]
public sealed class OpenRedirectTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("https://evil.example/ops/transfers", "admin")]
    [InlineData("//evil.example/ops/transfers", "operator")]
    [InlineData("/\\evil.example/ops/transfers", "school-admin")]
    [InlineData("javascript:alert(1)", "school-operator")]
    public async Task AReturnAddressOutsideTheApp_IsIgnored_AtEveryStepOfTheSignIn(string returnUrl, string user)
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        using var http = await OpsSignIn.ClientAsync(new Uri(gateway.Urls.First()), null);

        using var password = await OpsSignIn.PostFormAsync(http, "/ops/signin", new() { ["user"] = user, ["password"] = OpsSignIn.Password, ["returnUrl"] = returnUrl });
        using var code = await OpsSignIn.PostFormAsync(http, "/ops/signin/code", new() { ["code"] = await OpsSignIn.NextCodeAsync(user), ["returnUrl"] = returnUrl });
        output.WriteLine($"return address {returnUrl}: after the password {(int)password.StatusCode} {password.Headers.Location}; after the code {(int)code.StatusCode} {code.Headers.Location}");
        Assert.Equal(HttpStatusCode.Redirect, password.StatusCode);
        Assert.Equal("/ops/signin/code", password.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, code.StatusCode);
        Assert.Equal("/ops/transfers", code.Headers.Location!.OriginalString); // each of these users is an operator or admin
        output.WriteLine($"attack: an open redirect to {returnUrl} on sign-in: refused");
    }
}
