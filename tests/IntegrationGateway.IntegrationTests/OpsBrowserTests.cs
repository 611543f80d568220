using IntegrationGateway.AgencySimulator;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Microsoft.Playwright;

namespace IntegrationGateway.IntegrationTests;

/// <summary>
/// The ops app in a real browser (Debian's Chromium, driven by Playwright): an admin signs in, filters the transfers,
/// opens a blocked one, replays a refused one once its recipient is well again, and looks at the recipients.
/// Screenshots go to <c>artifacts/screenshots</c>.
/// </summary>
[Trait("Tier", "Browser")]
public sealed class OpsBrowserTests(ITestOutputHelper output)
{
    static string Screenshots => Browser.Screenshots;

    [Fact]
    public async Task Admin_SignsIn_FiltersTransfers_OpensABlockedOne_ReplaysARefusedOne_AndSeesTheRecipients()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?>(TestServices.FastDelivery));
        // A synthetic school party to the consent-based photographer agreement (deploy/config/controllers/demo-school-b.yaml).
        var generator = new SampleEventGenerator(1601, TimeProvider.System) { DutchSchool = "23CD" };
        var enrolment = generator.NextDutchEnrolment();

        // DUO refuses the enrolment once (a 400: kept as refused, not retried by itself); the photographer's transfer is
        // blocked (no consent). The officer and the GGD get theirs.
        bed.SimulatorBehaviour.Set("duo", new Misbehaviour(400, null, false, TimeSpan.Zero, null, Times: 1));
        await bed.Publisher.Publish(enrolment);
        await bed.WaitForParkedAsync(1, TimeSpan.FromSeconds(20));
        await bed.PublishAsync(generator.AbsenceReported(3));
        await bed.WaitForReceiptsAsync("leerplicht", 4, TimeSpan.FromSeconds(20));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Browser.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = gateway.Urls.First(), ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });

        // Signed out, the transfers page sends the browser to sign in, and back after it.
        await page.GotoAsync("/ops/transfers");
        Assert.Contains("/ops/signin", page.Url);
        await page.FillAsync("input[name=user]", "admin");
        await page.FillAsync("input[name=password]", OpsSignIn.Password);
        await page.ClickAsync("button[type=submit]");
        // The password is not enough: the second factor's page, and back to the transfers after it.
        await page.WaitForURLAsync("**/ops/signin/code*");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "signin-code.png"), FullPage = true });
        await page.FillAsync("input[name=code]", await OpsSignIn.NextCodeAsync("admin"));
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync("**/ops/transfers");
        var rows = await page.Locator("#transfers tbody tr").CountAsync();
        output.WriteLine($"transfers listed: {rows}");
        Assert.True(rows >= 9, $"expected the enrolment's 4 and the absences' 6 transfers, saw {rows}");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "transfers.png"), FullPage = true });

        // Filter: the blocked ones; open the photographer's.
        await page.SelectOptionAsync("select[name=outcome]", "blocked");
        await page.ClickAsync("#apply-filters");
        await page.WaitForURLAsync("**/ops/transfers?*outcome=blocked*");
        var blocked = page.Locator("#transfers tbody tr");
        Assert.Equal(1, await blocked.CountAsync());
        Assert.Contains("schoolfotograaf", await blocked.First.InnerTextAsync());
        await blocked.First.Locator("a").First.ClickAsync();
        await page.WaitForURLAsync("**/ops/transfers/*/schoolfotograaf-beeldmateriaal");
        var reasons = await page.InnerTextAsync("#reasons");
        output.WriteLine($"blocked transfer: {reasons}");
        Assert.Contains("consent-missing", reasons);
        Assert.Contains("GDPR 6(1)(a)", await page.InnerTextAsync("#decision"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "blocked-transfer.png"), FullPage = true });

        // DUO is well again; the refused transfer is replayed from the parked list, decided again, and delivered.
        await page.GotoAsync("/ops/parked");
        var refused = page.Locator("#parked tbody tr", new PageLocatorOptions { HasText = "duo-bron-inschrijvingen-examens" });
        Assert.Contains("rejected", await refused.InnerTextAsync());
        await refused.Locator("input[type=checkbox]").CheckAsync();
        await page.ClickAsync("#replay-selected");
        await page.WaitForURLAsync("**/ops/parked");
        var message = await page.InnerTextAsync("#message");
        output.WriteLine(message);
        Assert.Contains("1 transfer(s) replayed", message);
        var replayed = TransferKeys.Of(enrolment.EventId, "duo-bron-inschrijvingen-examens");
        await TestBed.WaitUntilAsync("the replayed transfer at DUO", () => bed.Receipts.List("duo").Any(r => r.IdempotencyKey == replayed), TimeSpan.FromSeconds(20));
        Assert.Single(bed.Receipts.List("duo"), r => r.IdempotencyKey == replayed);
        await Task.Delay(500); // the outcome's ledger entry follows the delivery
        await page.GotoAsync($"/ops/transfers/{enrolment.EventId:D}/duo-bron-inschrijvingen-examens");
        var attempts = await page.InnerTextAsync("#attempts");
        output.WriteLine($"attempts: {attempts.ReplaceLineEndings(" | ")}");
        Assert.Contains("rejected", attempts);
        Assert.Contains("delivered", attempts);

        await page.GotoAsync("/ops/recipients");
        var duoRow = await page.Locator("#recipients tbody tr", new PageLocatorOptions { HasText = "duo" }).First.InnerTextAsync();
        output.WriteLine($"recipients, duo: {duoRow}");
        Assert.Contains("enabled", duoRow);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "recipients.png"), FullPage = true });

        // The replay is recorded: who, when, which transfer.
        await page.GotoAsync("/ops/audit");
        var audit = await page.InnerTextAsync("#audit");
        Assert.Contains("replayed", audit);
        Assert.Contains(TransferKeys.Of(enrolment.EventId, "duo-bron-inschrijvingen-examens"), audit);
        foreach (var shot in new[] { "signin-code.png", "transfers.png", "blocked-transfer.png", "recipients.png" })
        {
            var file = new FileInfo(Path.Combine(Screenshots, shot));
            output.WriteLine($"screenshot {file.FullName}: {file.Length} bytes");
            Assert.True(file.Length > 5_000, $"{shot} is nearly empty");
        }
    }
}
