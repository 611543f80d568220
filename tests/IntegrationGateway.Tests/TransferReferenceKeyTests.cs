using IntegrationGateway.Gateway.Ledger;

namespace IntegrationGateway.Tests;

/// <summary>The reference each recipient gets for an event (<see cref="LedgerKeys.TransferReference"/>).</summary>
public class TransferReferenceKeyTests
{
    static readonly LedgerKeys Keys = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    [Fact]
    public void TheSameEventAndRecipient_GetTheSameReference_AnotherRecipientOrEventOrKey_AnotherOne()
    {
        var eventId = Guid.Parse("8d7f5c52-1a3e-4d0e-9f55-3c1f6b0a2e11");
        var duo = Keys.TransferReference(eventId, "duo");

        Assert.Equal(duo, Keys.TransferReference(eventId, "duo")); // every retry, replay, restart and replica
        Assert.Equal(duo, new LedgerKeys(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()).TransferReference(eventId, "duo"));
        Assert.NotEqual(duo, Keys.TransferReference(eventId, "onderwijsinspectie"));
        Assert.NotEqual(duo, Keys.TransferReference(Guid.Parse("8d7f5c52-1a3e-4d0e-9f55-3c1f6b0a2e12"), "duo"));
        Assert.NotEqual(duo, new LedgerKeys(new byte[32]).TransferReference(eventId, "duo"));
        Assert.NotEqual(eventId, duo);
    }

    [Fact]
    public void AReference_IsAVersion8Uuid_OfTheRfc9562Variant()
    {
        for (var i = 0; i < 64; i++)
        {
            var text = Keys.TransferReference(Guid.NewGuid(), $"recipient-{i}").ToString("D");
            Assert.Equal('8', text[14]);
            Assert.Contains(text[19], "89ab");
        }
    }

    [Fact]
    public void ALongRecipientName_IsNotRefused()
    {
        var name = new string('x', 5_000);
        Assert.NotEqual(Guid.Empty, Keys.TransferReference(Guid.NewGuid(), name));
    }
}
