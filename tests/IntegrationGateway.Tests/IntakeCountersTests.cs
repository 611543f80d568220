using System.Diagnostics.Metrics;
using IntegrationGateway.Gateway.Intake;
using Microsoft.Extensions.DependencyInjection;

namespace IntegrationGateway.Tests;

public class IntakeCountersTests
{
    [Fact]
    public void Quarantined_IsPublishedAsAMetricTaggedWithTheRule_AndKeptByRule()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var counters = new IntakeCounters(factory);
        var measured = new List<(string Instrument, long Value, string? Rule)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // This test's meter only: other tests in the process count on meters of the same name at the same time.
            if (instrument.Meter.Name == IntakeCounters.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measured.Add((instrument.Name, value, tags.ToArray().FirstOrDefault(t => t.Key == "rule").Value as string)));
        listener.Start();

        counters.CountQuarantined("bsn-checksum");
        counters.CountQuarantined("json");
        counters.CountQuarantined("bsn-checksum");
        counters.CountAccepted(subjectStateOnly: true);

        Assert.Equal(
            [("gateway.intake.quarantined", 1L, "bsn-checksum"), ("gateway.intake.quarantined", 1L, "json"), ("gateway.intake.quarantined", 1L, "bsn-checksum"), ("gateway.intake.accepted", 1L, null)],
            measured);
        Assert.Equal(new Dictionary<string, long> { ["bsn-checksum"] = 2, ["json"] = 1 }, counters.QuarantinedByRule);
        Assert.Equal(3, counters.Quarantined);
        Assert.Equal(1, counters.SubjectStateOnly);
    }
}
