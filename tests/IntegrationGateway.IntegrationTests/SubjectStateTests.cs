using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Npgsql;

namespace IntegrationGateway.IntegrationTests;

/// <summary>What a data subject says reaches the policy engine: consent given and withdrawn, erasure with its legal-obligation exception.</summary>
public sealed class SubjectStateTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ConsentGivenThenWithdrawn_AndErasure_DecideLaterTransfers_ExceptUnderAnOverridingLegalObligation()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        // A synthetic school party to the consent-based photographer agreement (deploy/config/controllers/demo-school-b.yaml).
        var generator = new SampleEventGenerator(1201, TimeProvider.System) { DutchSchool = "23CD" };
        var first = generator.NextDutchEnrolment();
        var (person, source) = (first.Subject, first.Source);
        StudentEnrolled Enrolment(Subject subject, EventSource from) => generator.NextDutchEnrolment() with { Subject = subject, Source = from };
        var now = TimeProvider.System.GetUtcNow();
        ConsentChanged Consent(string status, TimeSpan ago) =>
            ((ConsentChanged)generator.Next(nameof(ConsentChanged))) with
            {
                Subject = person, Source = source, Jurisdiction = "NL", OccurredAt = now - ago,
                Consent = new ConsentChange { Purpose = "school-photos", Status = status, ChangedOn = DateOnly.FromDateTime(now.UtcDateTime) },
            };

        // No consent known yet: the photographer gets nothing.
        await bed.Publisher.Publish(first);
        await bed.WaitForReceiptsAsync("ggd", 1, TimeSpan.FromSeconds(30));

        // Consent given: the next enrolment reaches the photographer too.
        await bed.Publisher.Publish(Consent("given", TimeSpan.FromMinutes(2)));
        await bed.WaitForTakenAsync(2);
        var second = Enrolment(person, source);
        await bed.Publisher.Publish(second);
        var photographer = await bed.WaitForReceiptsAsync("schoolfotograaf", 1, TimeSpan.FromSeconds(30));

        // Withdrawn (and an older "given" arriving late changes nothing): the photographer gets nothing more.
        await bed.Publisher.Publish(Consent("withdrawn", TimeSpan.FromMinutes(1)));
        await bed.Publisher.Publish(Consent("given", TimeSpan.FromMinutes(3)));
        await bed.WaitForTakenAsync(5);
        var third = Enrolment(person, source);
        await bed.Publisher.Publish(third);
        await bed.WaitForReceiptsAsync("ggd", 3, TimeSpan.FromSeconds(30));

        // Erasure: later transfers are denied, except where the ground is a legal obligation that overrides it.
        var erasure = ((ErasureRequested)generator.Next(nameof(ErasureRequested))) with { Subject = person, Source = source, Jurisdiction = "NL" };
        await bed.Publisher.Publish(erasure);
        await bed.WaitForTakenAsync(7);
        var fourth = Enrolment(person, source);
        await bed.Publisher.Publish(fourth);
        await bed.WaitForTakenAsync(8);

        var outcomes = await OutcomesAsync(fourth.EventId);
        var thirdOutcomes = await OutcomesAsync(third.EventId);
        output.WriteLine($"photographer received {string.Join(", ", bed.Receipts.List("schoolfotograaf").Select(r => r.Body?["eventType"]))}; third enrolment: {string.Join(", ", thirdOutcomes)}; after the erasure: {string.Join(", ", outcomes)}");
        Assert.Single(photographer);
        // Of enrolments, only the consented one; it was told of the erasure as well (art. 19).
        var photographs = bed.Receipts.List("schoolfotograaf");
        Assert.True(Assert.Single(photographs, r => r.Body?["eventType"]?.GetValue<string>() == "StudentEnrolled").IsOf(second.EventId));
        Assert.Contains(photographs, r => r.IsOf(erasure.EventId));
        Assert.Contains("schoolfotograaf: blocked (consent-withdrawn)", thirdOutcomes);
        Assert.Contains("ggd: blocked (subject-erased)", outcomes);
        Assert.Contains("duo: delivered ()", outcomes); // legal obligation, marked as overriding the erasure
        Assert.Contains("leerplicht: delivered ()", outcomes);
    }

    static async Task<List<string>> OutcomesAsync(Guid eventId)
    {
        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand("SELECT recipient, outcome, array_to_string(reasons, ',') FROM ledger_entry WHERE event_id = $1 ORDER BY recipient");
        command.Parameters.Add(new() { Value = eventId });
        await using var reader = await command.ExecuteReaderAsync();
        var outcomes = new List<string>();
        while (await reader.ReadAsync())
        {
            outcomes.Add($"{reader.GetString(0)}: {reader.GetString(1)} ({reader.GetString(2)})");
        }

        return outcomes;
    }
}
