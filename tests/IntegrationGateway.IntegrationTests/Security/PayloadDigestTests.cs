using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests.Security;

/// <summary>
/// The ledger's record of the bytes sent is keyed: a database dump does not let anyone test guesses of a payload's
/// few values against it, while the bytes the recipient holds still match it, given the key.
/// </summary>
[Trait("Tier", "Security")]
public sealed class PayloadDigestTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TheLedgersPayloadDigest_IsKeyed_NotTheBareHashOfTheBytesSent_AndMatchesThemWithTheKey()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var e = new SampleEventGenerator(1803, TimeProvider.System).NextAbsenceReported();
        await bed.PublishAsync([e]);
        var receipt = Assert.Single(await bed.WaitForReceiptsAsync("duo", 1, TimeSpan.FromSeconds(30)));
        await bed.WaitForTakenAsync(1);

        var stored = (await LedgerDecision.OfAsync(e.EventId, "duo")).PayloadDigest!;
        var bare = Convert.FromHexString(receipt.BodySha256!);
        var keyed = LedgerKeys.FromBase64(TestServices.LedgerKey).PayloadDigest(bare);
        output.WriteLine($"bytes DUO received: SHA-256 {receipt.BodySha256}; ledger keeps {Convert.ToHexStringLower(stored)}; HMAC of it with the ledger's derived key {Convert.ToHexStringLower(keyed)}");
        Assert.NotEqual(bare, stored);
        Assert.Equal(keyed, stored);
        output.WriteLine("attack: matching a guessed payload against the dump's payload_sha256: refused (keyed)");
    }
}
