using System.Text;
using System.Text.Json.Nodes;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.IntegrationTests.Infrastructure;
using IntegrationGateway.Tests;

namespace IntegrationGateway.IntegrationTests;

/// <summary>
/// A careless export, through the real RabbitMQ: every object of every event carries members its contract does not
/// declare (the person's identifier, name and a nested note), for every shipped agreement (objects admitted whole too, where one says <c>whole: true</c>).
/// The intake accepts them; no recipient may receive any of them, and the ledger names them as withheld.
/// </summary>
public sealed class UndeclaredMembersTests(ITestOutputHelper output)
{
    const int EventsPerType = 6;

    [Fact]
    public async Task SloppyExport_PublishedAsRawJson_ReachesEveryAgreement_WithOnlyTheContractsLeaves()
    {
        var agreements = AgreementLoader.LoadDirectory(TestServices.Agreements).Agreements;
        // The agreements that allow a whole object of some event they route (where a member a sender adds could ride
        // along), with whole: true; the shipped ones list leaves, so every agreement is tried.
        var wholeObjects = agreements.ToDictionary(
            a => a.Id,
            a => a.Fields.Paths.Where(p => a.EventTypes.Any(t => EventCatalogue.Default.Field(t, p) is { IsLeaf: false })).ToList());
        var objectAgreements = agreements;

        var generator = new SampleEventGenerator(31, TimeProvider.System);
        var events = objectAgreements.SelectMany(a => a.EventTypes).Distinct()
            .SelectMany(type => Enumerable.Range(0, EventsPerType).Select(_ => (Type: type, Json: SampleEventGenerator.AsSloppyExport(generator.Next(type)))))
            .ToList();
        foreach (var (_, e) in events.Where(e => e.Type == "SupportPlanUpdated" && e.Json["supportPlan"]?["referral"] is not null))
        {
            // A referral by the municipality is the care centre's (seed 001: CvOZ, KvK 74378023, reports to the family coach).
            e["source"]!["institutionId"] = "74378023";
        }

        // What the gateway should send: the engine's own allow decisions on the events as published (nothing is known of these subjects).
        var engine = new PolicyEngine(agreements);
        var expected = new List<(string EventId, Agreement Agreement)>();
        foreach (var (type, e) in events)
        {
            using var document = System.Text.Json.JsonDocument.Parse(e.ToJsonString());
            var body = document.RootElement;
            expected.AddRange(engine.Evaluate(TestAgreements.ShippedFacts(type, body), body, SubjectState.Unknown, TimeProvider.System.GetUtcNow(), TestAgreements.References)
                .Where(d => d.Allowed).Select(d => (body.GetProperty("eventId").GetString()!, d.Agreement)));
        }

        var tried = expected.Select(x => x.Agreement.Id).Distinct().Count();
        Assert.True(tried >= 10, $"only {tried} shipped agreements allow one of these events: the test would prove little");

        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        await using (var publisher = bed.ControllerPublishers())
        {
            foreach (var (type, e) in events)
            {
                await publisher.PublishAsync(type, Encoding.UTF8.GetBytes(e.ToJsonString()), Guid.Parse(e["eventId"]!.GetValue<string>()), e["source"]!["institutionId"]!.GetValue<string>(), CancellationToken.None);
            }
        }

        // Every message taken (settled, its decisions in the ledger), then what arrived.
        await bed.WaitForTakenAsync(events.Count, TimeSpan.FromSeconds(90));
        var byRecipient = expected.GroupBy(x => x.Agreement.Recipient).ToDictionary(g => g.Key, g => g.Count());
        foreach (var (recipient, count) in byRecipient)
        {
            var arrived = await bed.WaitForReceiptsAsync(recipient, count, TimeSpan.FromSeconds(90));
            Assert.True(arrived.Count >= count, $"timed out waiting for {count} receipts at {recipient}; {arrived.Count} arrived");
        }

        var receipts = bed.Receipts.List(null);
        var lines = new List<string>();
        var totalSpoiled = 0;
        foreach (var agreement in agreements.Where(a => expected.Any(x => x.Agreement.Id == a.Id)))
        {
            var theirs = receipts.Where(r => r.IdempotencyKey.EndsWith(":" + agreement.Id, StringComparison.Ordinal)).ToList();
            Assert.Equal(expected.Count(x => x.Agreement.Id == agreement.Id), theirs.Count);
            var spoiled = 0;
            foreach (var receipt in theirs)
            {
                var body = receipt.Body!;
                var eventType = body["eventType"]!.GetValue<string>();
                var leaves = Leaves(body["record"], "").ToList();
                var undeclared = leaves.Where(p => EventCatalogue.Default.Field(eventType, p) is not { IsLeaf: true }).ToList();
                var text = body.ToJsonString();
                if (undeclared.Count > 0 || receipt.FieldsOutsideAllowList.Count > 0 || SampleEventGenerator.UndeclaredMemberNames.Any(n => text.Contains(n, StringComparison.Ordinal)))
                {
                    spoiled++;
                    output.WriteLine($"{agreement.Id}: received {string.Join(", ", undeclared.Concat(receipt.FieldsOutsideAllowList).Distinct())}");
                }
            }

            lines.Add($"{agreement.Id}{(wholeObjects[agreement.Id].Count > 0 ? $" (allows {string.Join(", ", wholeObjects[agreement.Id])} whole)" : "")}: {theirs.Count} receipts, {spoiled} with a member the contract does not declare");
            totalSpoiled += spoiled;
        }

        foreach (var line in lines)
        {
            output.WriteLine(line);
        }

        Assert.True(totalSpoiled == 0, $"{totalSpoiled} receipts carried a member the contract does not declare");

        // The ledger names what stayed behind, so the sender's DPO can see what the export tried to send.
        var exam = expected.First(x => x.Agreement.Id == "onderwijsinspectie-nl").EventId;
        await using var database = Npgsql.NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var query = database.CreateCommand("SELECT withheld FROM ledger_entry WHERE event_id = $1 AND kind = 'decision' AND agreement_id = 'onderwijsinspectie-nl'");
        query.Parameters.Add(new() { Value = Guid.Parse(exam) });
        var withheld = (string[])(await query.ExecuteScalarAsync())!;
        output.WriteLine($"ledger, onderwijsinspectie-nl, withheld: {string.Join(", ", withheld)}");
        // Named as far as the contracts' own vocabulary goes ("text" is a name no contract declares either: masked).
        Assert.Contains(withheld, p => p is "exam.*" or "diploma.*");
        Assert.Contains("*.*", withheld); // exportNote.text at the root
        Assert.DoesNotContain(withheld, p => p.Contains("candidate", StringComparison.Ordinal) || p.Contains("exportNote", StringComparison.Ordinal));
    }

    static IEnumerable<string> Leaves(JsonNode? node, string prefix) => node switch
    {
        JsonObject o => o.SelectMany(p => Leaves(p.Value, prefix.Length == 0 ? p.Key : $"{prefix}.{p.Key}")),
        JsonArray a => a.SelectMany(e => Leaves(e, prefix + "[]")),
        _ => prefix.Length == 0 ? [] : [prefix],
    };
}
