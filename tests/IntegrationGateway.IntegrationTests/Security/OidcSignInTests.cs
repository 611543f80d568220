using IntegrationGateway.Gateway.Ops;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Microsoft.Playwright;

namespace IntegrationGateway.IntegrationTests.Security;

/// <summary>
/// Staff signing in through the organisation's OpenID Connect provider (OpenIddict, started here), in Debian's
/// Chromium: a sign-in the provider made with a password only is refused, one with a second factor accepted, and a
/// local user who has given the password but not the code gets no page. Each is in the audit; screenshots of every
/// step go to <c>artifacts/screenshots</c>.
/// </summary>
[Trait("Tier", "Security")]
public sealed class OidcSignInTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TheProvidersSignIn_WithoutASecondFactor_IsRefused_WithOne_Accepted_AndALocalUserNeedsTheirCode()
    {
        await using var bed = await TestBed.StartAsync();
        Uri? gatewayUrl = null;
        await using var provider = await OidcProvider.StartAsync(() => new Uri(gatewayUrl!, OpsOpenIdConnect.CallbackPath));
        await using var gateway = await bed.StartGatewayInProcessAsync(provider.GatewaySettings());
        gatewayUrl = new Uri(gateway.Urls.First());

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var shots = new List<FileInfo>();
        Task<IPage> NewPageAsync() => browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = gatewayUrl.ToString(), ViewportSize = new ViewportSize { Width = 1200, Height = 800 } });
        async Task ThroughTheProviderAsync(IPage page, string how, string? shot = null)
        {
            await page.ClickAsync("#signin-provider");
            await page.WaitForURLAsync($"{provider.Authority}connect/authorize*");
            if (shot is not null)
            {
                shots.Add(await Browser.ShootAsync(page, shot));
            }

            await page.ClickAsync($"#{how}");
        }

        // Through the provider, with a password only: back at the sign-in page, told it was refused; no page opens.
        var page = await NewPageAsync();
        await page.GotoAsync("/ops/transfers");
        await page.WaitForURLAsync("**/ops/signin*");
        shots.Add(await Browser.ShootAsync(page, "signin-with-provider.png"));
        await ThroughTheProviderAsync(page, "password-only", "provider-signin.png");
        await page.WaitForURLAsync("**/ops/signin?refused=oidc");
        Assert.Contains("without a second factor", await page.InnerTextAsync("body"));
        shots.Add(await Browser.ShootAsync(page, "provider-refused-without-mfa.png"));
        await page.GotoAsync("/ops/transfers");
        Assert.Contains("/ops/signin", page.Url);

        // With a second factor: in, on the page that was asked for.
        await ThroughTheProviderAsync(page, "with-mfa");
        await page.WaitForURLAsync("**/ops/transfers");
        shots.Add(await Browser.ShootAsync(page, "provider-signed-in-with-mfa.png"));

        // A local user in another browser: the password, but no code, opens nothing.
        var local = await NewPageAsync();
        await local.GotoAsync("/ops/signin");
        await local.FillAsync("input[name=user]", "operator");
        await local.FillAsync("input[name=password]", OpsSignIn.Password);
        await local.ClickAsync("form[method=post] button[type=submit]");
        await local.WaitForURLAsync("**/ops/signin/code*");
        await local.FillAsync("input[name=code]", OpsSignIn.WrongCode());
        await local.ClickAsync("button[type=submit]");
        Assert.Contains("does not open a sign-in", await local.InnerTextAsync("body"));
        shots.Add(await Browser.ShootAsync(local, "local-user-wrong-code.png"));
        await local.GotoAsync("/ops/transfers");
        Assert.Contains("/ops/signin", local.Url);

        // The admin signed in through the provider reads the audit: each attempt, and how it was made.
        await page.GotoAsync("/ops/audit");
        var audit = await page.InnerTextAsync("#audit");
        shots.Add(await Browser.ShootAsync(page, "audit-sign-ins.png"));
        output.WriteLine($"audit:\n{audit}");
        Assert.Contains("oidc:password-only\tsign-in-refused", audit);
        Assert.Contains("no second factor (amr pwd)", audit);
        Assert.Contains("oidc:with-mfa\tsigned-in", audit);
        Assert.Contains("amr pwd otp", audit);
        Assert.Contains("second factor wrong", audit);
        foreach (var shot in shots)
        {
            output.WriteLine($"screenshot {shot.FullName}: {shot.Length} bytes");
            Assert.True(shot.Length > 5_000, $"{shot.Name} is nearly empty");
        }

        output.WriteLine("attack: the provider's sign-in without a second factor: refused\nattack: a local user's password without the code: refused");
    }
}
