using System.Security.Cryptography;
using IntegrationGateway.Gateway.Sealing;

namespace IntegrationGateway.Tests;

/// <summary>One Sealing:Key, a key of its own per purpose: what is sealed for one does not open for another.</summary>
public sealed class SealingPurposesTests
{
    static readonly string[] Purposes = [SealingPurposes.Quarantine, SealingPurposes.ParkedPayload, SealingPurposes.OpsKeys];

    [Fact]
    public void ASealedValue_OpensForItsOwnPurposeOnly()
    {
        var master = new Sealer(RandomNumberGenerator.GetBytes(32));
        foreach (var purpose in Purposes)
        {
            var sealedBytes = master.For(purpose).Seal("a quarantined message"u8);
            Assert.Equal("a quarantined message"u8.ToArray(), master.For(purpose).Open(sealedBytes));
            Assert.Throws<AuthenticationTagMismatchException>(() => master.Open(sealedBytes));
            foreach (var other in Purposes.Where(p => p != purpose))
            {
                Assert.Throws<AuthenticationTagMismatchException>(() => master.For(other).Open(sealedBytes));
            }
        }
    }

    [Fact]
    public void AValueSealedUnderTheBareKey_BeforePurposesWereSeparated_StillOpens_AndNothingNewIsSealedSo()
    {
        var master = new Sealer(RandomNumberGenerator.GetBytes(32));
        var old = master.Seal("parked before the upgrade"u8, "key:duo"u8);
        var parked = master.For(SealingPurposes.ParkedPayload);
        Assert.Equal("parked before the upgrade"u8.ToArray(), parked.Open(old, "key:duo"u8));
        Assert.Equal([parked.KeyId, master.KeyId], parked.KeyIds);
        Assert.Throws<AuthenticationTagMismatchException>(() => master.Open(parked.Seal("new"u8, "key:duo"u8), "key:duo"u8));
    }

    [Fact]
    public void TheKeyId_NamesTheKeyAndThePurpose_NeverTheKey()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var master = new Sealer(key);
        Assert.Equal($"{master.KeyId}/{SealingPurposes.Quarantine}", master.For(SealingPurposes.Quarantine).KeyId);
        Assert.Equal(master.For(SealingPurposes.OpsKeys).KeyId, master.For(SealingPurposes.Quarantine).For(SealingPurposes.OpsKeys).KeyId); // derived from the one key, not from each other
        Assert.DoesNotContain(Convert.ToHexStringLower(key)[..8], master.For(SealingPurposes.ParkedPayload).KeyId);
    }
}
