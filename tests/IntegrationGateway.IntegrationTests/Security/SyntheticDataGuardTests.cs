using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests.Security;

/// <summary>The verbs that make up people (the demo, generated events) run in Development only: nothing made up reaches a production intake.</summary>
[Trait("Tier", "Security")]
public sealed class SyntheticDataGuardTests(ITestOutputHelper output)
{
    [Fact]
    public async Task GeneratedEventsAndTheDemo_OutsideDevelopment_AreRefused_AndNothingIsPublished()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var broker = GatewayCommandLine.BrokerSettings(bed);

        var publish = await GatewayCommandLine.RunAsync(["events", "publish", "--type", "AbsenceReported", "--generate", "3", "--environment", "Production", .. broker]);
        var demo = await GatewayCommandLine.RunAsync(["demo", "--count", "1", "--exit-after-summary", "--environment", "Staging", .. broker]);
        foreach (var (verb, result) in new[] { ("events publish --generate", publish), ("demo", demo) })
        {
            output.WriteLine($"{verb}: exit {result.Exit}: {result.Err.Trim()}");
            Assert.Equal(1, result.Exit);
        }

        Assert.Contains("Development environment only", publish.Err, StringComparison.Ordinal);
        Assert.Contains("demo sends made-up people", demo.Err, StringComparison.Ordinal);
        Assert.Contains("this is 'Staging'", demo.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("Published", publish.Out, StringComparison.Ordinal);
        // Nothing reached the intake: a control event published now, behind anything that did, is the only one taken.
        var control = new Gateway.Events.SampleEventGenerator(1802, TimeProvider.System).NextAbsenceReported();
        await bed.PublishAsync([control]);
        var receipt = Assert.Single(await bed.WaitForReceiptsAsync("duo", 1, TimeSpan.FromSeconds(30)));
        await bed.WaitForTakenAsync(1);
        Assert.Equal(1, bed.Taken);
        Assert.True(receipt.IsOf(control.EventId));
        output.WriteLine("attack: generated events outside Development: refused\nattack: the demo outside Development: refused");
    }
}
