using IntegrationGateway.Gateway.Ops;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests.Security;

/// <summary>A flood of guessed sign-ins does not push what staff did off the audit: refusals are one row per address, user and minute, with a count.</summary>
[Trait("Tier", "Security")]
public sealed class SignInFloodTests(ITestOutputHelper output)
{
    [Fact]
    public async Task GuessedSignIns_AreCountedPerAddressAndMinute_AndStaffActionsStayOnTheFirstPage()
    {
        const int guesses = 24;
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var url = new Uri(gateway.Urls.First());
        using var admin = await OpsSignIn.ClientAsync(url, "admin");

        using var guesser = await OpsSignIn.ClientAsync(url, null);
        for (var i = 0; i < guesses; i++)
        {
            using var refused = await OpsSignIn.PostFormAsync(guesser, "/ops/signin", new() { ["user"] = i % 2 == 0 ? "admin" : $"guess-{i}", ["password"] = $"guess {i}" });
            Assert.Contains("do not match", await refused.Content.ReadAsStringAsync());
        }

        var page = await admin.GetStringAsync("/ops/audit");
        var refusedOnPage = page.Split("<td>sign-in-refused</td>").Length - 1;
        var signedIn = page.Split("<td>signed-in</td>").Length - 1;
        output.WriteLine($"{guesses} guesses; refusal rows on the audit's first page while the minute lasts: {refusedOnPage}; the admin's own sign-in still there: {signedIn}");
        Assert.Equal(1, signedIn);
        Assert.True(refusedOnPage <= 4, $"{refusedOnPage} refusal rows: the guesses were not counted together");

        await gateway.StopAsync();
        var rows = await AuditRows.OfAsync(OpsAudit.Actions.SignInRefused);
        output.WriteLine($"after the stop: {string.Join("; ", rows)}");
        Assert.True(rows.Count <= 8, $"{rows.Count} rows for {guesses} guesses");
        Assert.Equal(guesses / 2, AuditRows.Refusals(rows, "admin"));
        Assert.Equal(guesses / 2, AuditRows.Refusals(rows, "(unknown user)"));
        Assert.DoesNotContain(rows, r => r.Contains("guess", StringComparison.Ordinal)); // neither the names tried nor the passwords
        output.WriteLine($"attack: {guesses} guessed sign-ins: refused, {rows.Count} audit rows");
    }
}
