using IntegrationGateway.Gateway.Events;

namespace IntegrationGateway.Tests;

public class SampleEventGeneratorTests
{
    static bool PassesElevenTest(string bsn) =>
        bsn.Length == 9 && bsn.All(char.IsAsciiDigit)
        && Enumerable.Range(0, 9).Sum(i => (i < 8 ? 9 - i : -1) * (bsn[i] - '0')) % 11 == 0;

    [Fact]
    public void NextBsn_AlwaysPassesTheElevenTest()
    {
        var generator = new SampleEventGenerator(1, TimeProvider.System);

        var invalid = Enumerable.Range(0, 5000).Select(_ => generator.NextBsn()).Where(b => !PassesElevenTest(b)).ToList();

        Assert.Empty(invalid);
    }

    [Theory]
    [InlineData("111222333", true)]
    [InlineData("123456782", true)]
    [InlineData("123456789", false)]
    public void ElevenTestOfThisTest_AgreesWithKnownNumbers(string bsn, bool valid) => Assert.Equal(valid, PassesElevenTest(bsn));

    [Fact]
    public void AbsenceReported_SameSeed_SameEvents()
    {
        var time = TimeProvider.System;
        var a = new SampleEventGenerator(42, time).AbsenceReported(5);
        var b = new SampleEventGenerator(42, time).AbsenceReported(5);

        Assert.Equal(a.Select(e => (e.EventId, e.Subject.Bsn, e.Absence.From)), b.Select(e => (e.EventId, e.Subject.Bsn, e.Absence.From)));
        Assert.Equal(5, a.Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public void AbsenceReported_DatesArePlausible()
    {
        var events = new SampleEventGenerator(3, TimeProvider.System).AbsenceReported(500);

        Assert.All(events, e =>
        {
            Assert.True(e.Absence.To >= e.Absence.From);
            Assert.True(e.Subject.BirthDate < e.Absence.From);
            Assert.Equal(4, e.EventId.Version);
        });
    }
}
