using System.Diagnostics;
using IntegrationGateway.AgencySimulator;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Storage;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace IntegrationGateway.IntegrationTests;

/// <summary>
/// Each recipient gets its own reference for an event, never the event's id: in the idempotency key, the signed
/// webhook id and the record's <c>eventId</c>; the same on every retry and replay; and no trace context that every
/// recipient of the event would share. So the inspectorate's record without identity cannot be joined to DUO's by an id.
/// </summary>
public sealed class TransferReferenceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TwoRecipientsOfOneEvent_GetDifferentReferences_AndNeitherItsIdNorItsTrace_ARetryAndAReplayKeepEach()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?>(TestServices.FastDelivery));
        var generator = new SampleEventGenerator(1701, TimeProvider.System);
        var enrolment = generator.NextDutchEnrolment();

        // DUO fails the first attempt (a 503: retried at once, in process); the officer refuses its transfer once (a 400:
        // parked as refused, replayed below by an operator); the GGD takes its transfer at once.
        bed.SimulatorBehaviour.Set("duo", new Misbehaviour(503, null, false, TimeSpan.Zero, null, Times: 1));
        bed.SimulatorBehaviour.Set("leerplicht", new Misbehaviour(400, null, false, TimeSpan.Zero, null, Times: 1));

        // Published raw with the school's own trace context, which must stop at the gateway.
        var publisherTrace = ActivityTraceId.CreateRandom();
        await bed.PublishWithTraceContextAsync(enrolment, publisherTrace, ActivitySpanId.CreateRandom());

        await bed.WaitForParkedAsync(1, TimeSpan.FromSeconds(30));
        await TestBed.WaitUntilAsync("DUO's and the GGD's receipts", () => bed.Receipts.List(null).Count(r => r.IsOf(enrolment.EventId)) >= 2, TimeSpan.FromSeconds(30));
        var officerKey = TransferKeys.Of(enrolment.EventId, "leerplicht-inschrijvingen");
        var replayed = await gateway.Services.GetRequiredService<ParkedTransfers>().ReplayAsync([officerKey], CancellationToken.None);
        Assert.Equal([officerKey], replayed);
        await TestBed.WaitUntilAsync("the officer's receipt after the replay", () => bed.Receipts.List("leerplicht").Any(r => r.IsOf(enrolment.EventId)), TimeSpan.FromSeconds(30));

        // The bed's simulator is this test's own: every receipt it holds is of this event.
        var receipts = bed.Receipts.List(null).ToList();
        Assert.All(receipts, r => Assert.True(r.IsOf(enrolment.EventId), $"{r.Recipient} got {r.IdempotencyKey}, not its reference for the event"));
        var attempts = bed.Receipts.Attempts(null).Where(a => receipts.Any(r => r.Recipient == a.Recipient)).ToList();
        foreach (var receipt in receipts)
        {
            var theirs = attempts.Where(a => a.Recipient == receipt.Recipient).ToList();
            output.WriteLine($"{receipt.Recipient}: key {receipt.IdempotencyKey}, record eventId {receipt.Body?["record"]?["eventId"]}; " +
                             $"{theirs.Count} attempt(s) with the keys {string.Join(", ", theirs.Select(a => a.IdempotencyKey).Distinct())}; headers {string.Join(" ", theirs[0].Headers.Keys.Order())}");
        }

        // Three recipients, three references; the record's eventId is the recipient's reference.
        Assert.Equal(["duo", "ggd", "leerplicht"], receipts.Select(r => r.Recipient).Order());
        var references = receipts.Select(r => r.IdempotencyKey.Split(':')[0]).ToList();
        Assert.Equal(3, references.Distinct().Count());
        Assert.All(receipts, r => Assert.Equal(TransferKeys.ReferenceOf(enrolment.EventId, r.Recipient).ToString("D"), r.Body!["record"]!["eventId"]!.GetValue<string>()));

        // A retry (DUO: two attempts) and a replay (the officer: two attempts, hours apart in real life) keep the key.
        Assert.Equal(2, attempts.Count(a => a.Recipient == "duo"));
        Assert.Equal(2, attempts.Count(a => a.Recipient == "leerplicht"));
        Assert.All(attempts, a => Assert.Equal(receipts.Single(r => r.Recipient == a.Recipient).IdempotencyKey, a.IdempotencyKey));
        Assert.All(attempts, a => Assert.Equal(a.IdempotencyKey, a.Headers["webhook-id"]));

        // Neither the event's id nor the school's trace reaches any recipient, in any header or body; no trace context at all.
        var id = enrolment.EventId.ToString("D");
        var seen = attempts.SelectMany(a => a.Headers.Select(h => $"{h.Key}: {h.Value}")).Concat(receipts.Select(r => r.Body!.ToJsonString())).ToList();
        Assert.DoesNotContain(seen, text => text.Contains(id, StringComparison.OrdinalIgnoreCase) || text.Contains(publisherTrace.ToString(), StringComparison.OrdinalIgnoreCase));
        Assert.All(attempts, a => Assert.False(a.Headers.ContainsKey("traceparent") || a.Headers.ContainsKey("tracestate") || a.Headers.ContainsKey("baggage") || a.Headers.ContainsKey("request-id"),
            $"{a.Recipient} was sent trace context: {string.Join(", ", a.Headers.Keys)}"));

        // The ledger keeps the key each recipient got, beside the event's id: the DPO can go from either to the other.
        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand("SELECT DISTINCT recipient, idempotency_key FROM ledger_entry WHERE event_id = $1 AND idempotency_key IS NOT NULL");
        command.Parameters.Add(new() { Value = enrolment.EventId });
        var ledger = new List<(string, string)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                ledger.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        Assert.Equal(receipts.Select(r => (r.Recipient, r.IdempotencyKey)).Order(), ledger.Order());
    }
}
