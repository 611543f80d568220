using System.Net;
using System.Net.Sockets;
using IntegrationGateway.AgencySimulator;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests.Security;

/// <summary>
/// A recipient's endpoint that answers with a redirect (hijacked, or misconfigured) gets nothing more: the signed
/// payload, the bearer token and the client certificate go to the recipient's own address only.
/// </summary>
[Trait("Tier", "Security")]
public sealed class OutboundHttpSecurityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(307)] // keeps the method and body: would post the signed payload to the new address
    [InlineData(308)]
    [InlineData(302)] // turns into a GET of an address the answer chose
    public async Task ARecipientThatRedirects_IsNotFollowed_TheTransferIsRejected_AndTheOtherAddressHearsNothing(int status)
    {
        using var trap = new TcpListener(IPAddress.Loopback, 0);
        trap.Start();
        var connections = 0;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                using var client = await trap.AcceptTcpClientAsync();
                Interlocked.Increment(ref connections);
            }
        });
        var elsewhere = new Uri($"http://127.0.0.1:{((IPEndPoint)trap.LocalEndpoint).Port}/collect");

        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?>(TestServices.FastDelivery));
        bed.SimulatorBehaviour.Set("duo", new Misbehaviour(status, null, false, TimeSpan.Zero, null, RedirectTo: elsewhere));
        var e = new SampleEventGenerator(1801, TimeProvider.System).NextAbsenceReported();
        await bed.PublishAsync([e]);
        await bed.WaitForReceiptsAsync("leerplicht", 1, TimeSpan.FromSeconds(30));
        await bed.WaitForTakenAsync(1);

        var decision = await LedgerDecision.OfAsync(e.EventId, "duo");
        var (outcome, code) = (decision.Outcome, decision.StatusCode);
        output.WriteLine($"DUO answered {status} to {elsewhere}: ledger {outcome} {code}; requests to DUO {bed.SimulatorBehaviour.FailuresFor("duo")}; connections to the other address {connections}");
        Assert.Equal(status, code);
        Assert.NotEqual("delivered", outcome);
        Assert.Equal(1, bed.SimulatorBehaviour.FailuresFor("duo")); // one request: a redirect is an answer, not a reason to retry
        Assert.Equal(0, connections);
        output.WriteLine($"attack: a recipient redirecting with {status}: refused (not followed)");
    }
}
