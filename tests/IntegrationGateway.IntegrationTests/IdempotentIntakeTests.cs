using System.Text.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace IntegrationGateway.IntegrationTests;

/// <summary>
/// Each event id is taken once: the same event published again is acknowledged and sent to no one a second time;
/// the same id with other content is quarantined as <c>event-id-reused</c> and sent to no one.
/// </summary>
public sealed class IdempotentIntakeTests(ITestOutputHelper output)
{
    static byte[] Json(AbsenceReported e) => JsonSerializer.SerializeToUtf8Bytes(e, EventJsonContext.Default.AbsenceReported);

    [Fact]
    public async Task TheSameEventsPublishedTwice_AreDeliveredOnce_TheSecondCopiesAcknowledgedAsDuplicates()
    {
        const int count = 100;
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var events = new SampleEventGenerator(1501, TimeProvider.System).AbsenceReported(count);
        await using var publisher = await bed.ConnectIntakePublisherAsync();
        foreach (var e in events)
        {
            await publisher.PublishAsync(nameof(AbsenceReported), Json(e), e.EventId);
        }

        // Each event goes to DUO and the compulsory-education officer.
        await bed.WaitForReceiptsAsync("duo", count, TimeSpan.FromSeconds(60));
        await bed.WaitForReceiptsAsync("leerplicht", count, TimeSpan.FromSeconds(60));
        await bed.WaitForTakenAsync(count);
        var deliveriesBefore = bed.Receipts.List(null).Sum(r => r.Deliveries);
        var entriesBefore = await LedgerEntriesAsync(events);

        // The same bytes again, as a publisher that lost its confirmations and sent everything again would.
        foreach (var e in events)
        {
            await publisher.PublishAsync(nameof(AbsenceReported), Json(e), e.EventId);
        }

        await bed.WaitForTakenAsync(2 * count, TimeSpan.FromSeconds(60));
        var intake = gateway.Services.GetRequiredService<IntakeCounters>();
        var receipts = bed.Receipts.List(null);
        var deliveriesAfter = receipts.Sum(r => r.Deliveries);
        var entriesAfter = await LedgerEntriesAsync(events);
        output.WriteLine($"{count} events published twice: receipts {receipts.Count}, deliveries {deliveriesBefore} after the first copies, {deliveriesAfter} after the second; " +
                         $"ledger entries {entriesBefore} then {entriesAfter}; duplicates counted {intake.Duplicates}; quarantined {intake.Quarantined}");

        Assert.Equal(2 * count, receipts.Count);
        Assert.Equal(deliveriesBefore, deliveriesAfter);
        Assert.Equal(2 * count, entriesAfter);
        Assert.Equal(entriesBefore, entriesAfter);
        Assert.Equal(count, intake.Duplicates);
        Assert.Equal(0, intake.Quarantined);
    }

    [Fact]
    public async Task AReusedEventIdWithChangedContent_IsQuarantinedAsEventIdReused_AndNothingIsSent()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var original = new SampleEventGenerator(1502, TimeProvider.System).NextAbsenceReported() with { };
        original = original with { Absence = original.Absence with { Hours = 12 } };
        await using var publisher = await bed.ConnectIntakePublisherAsync();
        await publisher.PublishAsync(nameof(AbsenceReported), Json(original), original.EventId);
        await bed.WaitForReceiptsAsync("leerplicht", 1, TimeSpan.FromSeconds(30));
        await bed.WaitForTakenAsync(1);
        var deliveriesBefore = bed.Receipts.List(null).Sum(r => r.Deliveries);

        // Same eventId, the hours changed from 12 to 5: a publisher's bug, or an attempt to overwrite what was sent.
        var changed = original with { Absence = original.Absence with { Hours = 5 } };
        await publisher.PublishAsync(nameof(AbsenceReported), Json(changed), changed.EventId);
        await bed.WaitForTakenAsync(2);

        var quarantined = Assert.Single(await bed.DrainAsync(bed.QuarantineQueue));
        var receipts = bed.Receipts.List(null);
        var kept = receipts.Single(r => r.Recipient == "leerplicht").Body!.ToJsonString();
        output.WriteLine($"quarantined with {quarantined.Headers[Quarantine.RuleHeader]} at {quarantined.Headers[Quarantine.PathHeader]}; deliveries {deliveriesBefore} then {receipts.Sum(r => r.Deliveries)}; ledger entries {await LedgerEntriesAsync([original])}");
        Assert.Equal(IntakeHandler.EventIdReused, quarantined.Headers[Quarantine.RuleHeader]);
        Assert.Equal("eventId", quarantined.Headers[Quarantine.PathHeader]);
        Assert.DoesNotContain(quarantined.Headers.Values, v => v is not null && v.Contains(original.Subject.Bsn!, StringComparison.Ordinal));
        Assert.Equal(deliveriesBefore, receipts.Sum(r => r.Deliveries));
        Assert.Equal(2, await LedgerEntriesAsync([original]));
        Assert.Contains("\"hours\":12", kept, StringComparison.Ordinal);
        Assert.Equal(1, gateway.Services.GetRequiredService<IntakeCounters>().QuarantinedByRule[IntakeHandler.EventIdReused]);
    }

    static async Task<long> LedgerEntriesAsync(IEnumerable<AbsenceReported> events)
    {
        await using var database = Npgsql.NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand("SELECT count(*) FROM ledger_entry WHERE event_id = ANY($1)");
        command.Parameters.Add(new() { Value = events.Select(e => e.EventId).ToArray() });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
