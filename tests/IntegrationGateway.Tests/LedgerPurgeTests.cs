using IntegrationGateway.Gateway.Ledger;

namespace IntegrationGateway.Tests;

/// <summary>The arithmetic of retention: calendar durations, the ranges a purge entry names, and what the verifier accepts of one.</summary>
public sealed class LedgerPurgeTests
{
    static readonly DateTimeOffset Now = new(2026, 3, 31, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("P7Y", "2019-03-31T12:00:00")]
    [InlineData("P1M", "2026-02-28T12:00:00")] // a calendar month back from 31 March ends on the last day of February
    [InlineData("P2W", "2026-03-17T12:00:00")]
    [InlineData("P1Y6M10D", "2024-09-20T12:00:00")]
    [InlineData("PT36H", "2026-03-30T00:00:00")]
    public void Before_CountsBackInCalendarTerms(string duration, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected + "+00:00", System.Globalization.CultureInfo.InvariantCulture), LedgerPurge.Before(Now, duration, "setting"));

    [Theory]
    [InlineData("7 years")]
    [InlineData("P")]
    [InlineData("PT")]
    [InlineData("-P1Y")]
    [InlineData("P99999Y")]
    public void Before_RefusesWhatIsNotADuration_NamingTheSetting(string duration)
    {
        var error = Assert.Throws<FormatException>(() => LedgerPurge.Before(Now, duration, "Ledger:Retention:Default"));
        Assert.Contains("Ledger:Retention:Default", error.Message);
    }

    [Fact]
    public void Validate_NamesTheAgreementWhoseRetentionIsWrong()
    {
        var options = new LedgerRetentionOptions { Agreements = { ["ggd-jeugdgezondheidszorg"] = "two years" } };
        var error = Assert.Throws<FormatException>(() => LedgerPurge.Validate(options));
        Assert.Contains("Ledger:Retention:Agreements:ggd-jeugdgezondheidszorg", error.Message);
    }

    [Fact]
    public void Ranges_CompressRunsOfSequenceNumbers() =>
        Assert.Equal(["1-3", "5", "7-8"], LedgerPurge.Ranges([1, 2, 3, 5, 7, 8]));

    [Fact]
    public void Settle_AcceptsAPurgeEntryThatNamesTheBlankedEntries_AndRefusesOneThatNamesAnother()
    {
        byte[] Hash(int n) => System.Security.Cryptography.SHA256.HashData([(byte)n]);
        SortedDictionary<long, byte[]> Blanked() => new() { [1] = Hash(1), [2] = Hash(2), [4] = Hash(4) };
        var digest = Digest((1, Hash(1)), (2, Hash(2)), (4, Hash(4)));
        LedgerEntry Purge(string[] ranges, byte[] digestOf) =>
            LedgerEntry.OfTheLedger(LedgerKinds.Purge, "purged") with { Seq = 9, PurgedRanges = ranges, PurgedDigest = digestOf };

        var blanked = Blanked();
        Assert.Null(LedgerPurge.Settle(Purge(["1-2", "4"], digest), blanked));
        Assert.Empty(blanked);
        Assert.Contains("names entry 3", LedgerPurge.Settle(Purge(["1-4"], digest), Blanked()));
        Assert.Contains("does not match", LedgerPurge.Settle(Purge(["1-2", "4"], Digest((1, Hash(1)), (2, Hash(2)), (4, Hash(5)))), Blanked()));
    }

    static byte[] Digest(params (long Seq, byte[] Hash)[] entries)
    {
        var bytes = new List<byte>();
        foreach (var (seq, hash) in entries)
        {
            var number = new byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(number, seq);
            bytes.AddRange(number);
            bytes.AddRange(hash);
        }

        return System.Security.Cryptography.SHA256.HashData([.. bytes]);
    }
}
