using IntegrationGateway.Adapters;
using IntegrationGateway.AgencySimulator;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IntegrationGateway.IntegrationTests;

/// <summary>A recipient that wants OAuth2 client credentials: tokens acquired, cached, refreshed before expiry and after a 401.</summary>
public sealed class OAuthTests(ITestOutputHelper output)
{
    [Fact]
    public async Task OAuthRecipient_TokensAreCachedAndRefreshed_EveryTransferArrivesWithAValidToken()
    {
        var client = new OAuthClient("ggd");
        await using var bed = await TestBed.StartAsync(
        [
            .. client.SimulatorSettings,
            new("OAuth:TokenLifetimeSeconds", "4"), // the gateway renews halfway through a token this short: after 2 s
        ]);
        var settings = new Dictionary<string, string?>();
        client.AddTo(settings, bed);
        await using var gateway = await bed.StartGatewayInProcessAsync(settings);
        var oauth = bed.Simulator.Services.GetRequiredService<OAuthServer>();
        var generator = new SampleEventGenerator(606, TimeProvider.System);
        var sent = 0;

        // Three batches, spread so that the first token runs out on the way.
        for (var batch = 0; batch < 3; batch++)
        {
            var events = Enumerable.Range(0, 10).Select(_ => (StudentEnrolled)generator.Next(nameof(StudentEnrolled))).ToList();
            await bed.PublishAsync(events);
            sent += events.Count;
            await bed.WaitForReceiptsAsync("ggd", sent, TimeSpan.FromSeconds(30));
            await Task.Delay(TimeSpan.FromSeconds(1.5));
        }

        var issuedBeforeRevoke = oauth.IssuedFor("ggd");

        // The agency revokes every token: the next transfer meets a 401, and the gateway fetches a new one.
        oauth.RevokeAll();
        var last = (StudentEnrolled)generator.Next(nameof(StudentEnrolled));
        await bed.PublishAsync([last]);
        var receipts = await bed.WaitForReceiptsAsync("ggd", sent + 1, TimeSpan.FromSeconds(30));

        output.WriteLine($"ggd transfers {receipts.Count}; tokens issued {oauth.IssuedFor("ggd")} ({issuedBeforeRevoke} before the revocation); requests refused {oauth.RefusedFor("ggd")}; " +
                         $"acquired by the gateway {gateway.Services.GetRequiredService<OAuthTokenCache>().Acquired.GetValueOrDefault("ggd")}");
        Assert.Equal(sent + 1, receipts.Count);
        Assert.InRange(issuedBeforeRevoke, 2, 10); // renewed, yet far fewer than the 30 transfers: cached
        Assert.Equal(1, oauth.RefusedFor("ggd")); // the revoked token, once; then a fresh one
        Assert.Equal(issuedBeforeRevoke + 1, oauth.IssuedFor("ggd"));
        Assert.DoesNotContain(receipts, r => r.Deliveries > 1);
        // The token requests carry no trace context either: the same trace id at every recipient's authority would join them.
        var tokenRequests = bed.Receipts.Attempts(SimulatorApp.TokenEndpoint);
        Assert.Equal(oauth.IssuedFor("ggd"), tokenRequests.Count);
        Assert.All(tokenRequests, a => Assert.False(a.Headers.ContainsKey("traceparent") || a.Headers.ContainsKey("tracestate"), string.Join(", ", a.Headers.Keys)));
    }
}
