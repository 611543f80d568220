using System.Diagnostics;

namespace IntegrationGateway.IntegrationTests.Faults;

/// <summary>
/// The optimised path end to end, at full speed and with no fault: 20,000 fresh <c>AbsenceReported</c> events
/// (<c>IG_DRAIN_EVENTS</c> for another number) through a gateway running as its own process, each to DUO and the
/// compulsory-education officer, against the real broker, database and simulator. Then every event is accounted for as
/// the fault tier accounts for it: a receipt per event and recipient (0 lost), 0 duplicate effects, exactly one decision
/// per event and agreement, nothing parked or quarantined, and <c>ledger verify</c> passes. Speed is reported, not
/// asserted: deploy/local/load.sh measures it.
/// </summary>
[Trait("Tier", "Load")]
public sealed class DrainTests(ITestOutputHelper output)
{
    static readonly int Events = int.TryParse(Environment.GetEnvironmentVariable("IG_DRAIN_EVENTS"), out var n) && n > 0 ? n : 20_000;

    [Fact]
    public async Task TwentyThousandEvents_DrainThroughTheOptimisedPath_WithEveryDecisionAndReceiptAccountedFor()
    {
        await using var run = await FaultRun.StartAsync($"drain-{Events}", Events);
        await run.StartGatewayAsync();
        var drain = Stopwatch.StartNew();
        await run.PublishAsync(run.Events);
        var row = await run.DrainAndCheckAsync(drain, output, "no fault: published and drained at full speed");
        Assert.Equal(run.Expected, row.Receipts);
        output.WriteLine($"{Events:N0} events, {run.Expected:N0} transfers in {row.RecoverSeconds:0.0} s from the first publish ({Events / row.RecoverSeconds:N0} events/s, this build)");
    }
}
