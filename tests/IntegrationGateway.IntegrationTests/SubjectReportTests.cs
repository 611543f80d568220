using System.Text.Json.Nodes;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests;

/// <summary>"Who received my data?": the ledger's answer for one person matches what the agencies recorded for them.</summary>
public sealed class SubjectReportTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SubjectReport_ListsExactlyTheRecipientsTheSimulatorRecordedForThatPerson()
    {
        await using var bed = await TestBed.StartAsync();
        var generator = new SampleEventGenerator(1101, TimeProvider.System);
        var absence = generator.NextAbsenceReported();
        var person = absence.Subject;
        object[] theirs =
        [
            absence,
            ((StudentEnrolled)generator.Next(nameof(StudentEnrolled))) with { Subject = person, Jurisdiction = "NL", Source = absence.Source },
            ((ExamResultRecorded)generator.Next(nameof(ExamResultRecorded))) with { Subject = person, Jurisdiction = "NL", Source = absence.Source },
        ];
        object[] others = [generator.NextAbsenceReported(), generator.Next(nameof(StudentEnrolled)), generator.Next(nameof(IntegrationIntakeCompleted))];
        await using (var gateway = await bed.StartGatewayInProcessAsync())
        {
            foreach (var e in theirs.Concat(others))
            {
                await bed.Publisher.Publish(e, e.GetType());
            }

            await bed.WaitForReceiptsAsync("ggd", 2, TimeSpan.FromSeconds(30));

            // The same event again, as a redelivery after a lost acknowledgement would bring it.
            await bed.Publisher.Publish(absence);
            await bed.WaitForTakenAsync(theirs.Length + others.Length + 1);
        }

        var (exit, stdout, _) = await GatewayCommandLine.RunWithInputAsync(person.Bsn! + "\n", ["subject", "report", "--id", "-", "--format", "json", .. GatewayCommandLine.DatabaseSettings]);
        var report = JsonNode.Parse(stdout)!.AsArray();
        var recorded = bed.Receipts.List(null).Of(theirs.Select(e => (Guid)e.GetType().GetProperty("EventId")!.GetValue(e)!));

        var reported = report.Select(t => (t!["recipient"]!.GetValue<string>(), t["agreement"]!.GetValue<string>())).Order().ToList();
        var simulator = recorded.DistinctBy(r => (r.Recipient, r.IdempotencyKey)).Select(r => (r.Recipient, r.AgreementOf())).Order().ToList();
        output.WriteLine($"report: {string.Join(", ", reported)}; simulator: {string.Join(", ", simulator)}");
        Assert.Equal(0, exit);
        Assert.NotEmpty(reported);
        Assert.Equal(simulator, reported);
        Assert.DoesNotContain(person.Bsn!, stdout);
        Assert.DoesNotContain(person.FamilyName!, stdout);
        Assert.All(report, t => Assert.NotEmpty(t!["disclosed"]!.AsArray()));

        // The sender's own number finds the same transfers: every entry carries a pseudonym per key of the person.
        var (byLocalExit, byLocal, _) = await GatewayCommandLine.RunAsync(
            ["subject", "report", "--institution", absence.Source.InstitutionId, "--local-id", person.LocalId, "--format", "json", .. GatewayCommandLine.DatabaseSettings]);
        var reportedByLocal = JsonNode.Parse(byLocal)!.AsArray().Select(t => (t!["recipient"]!.GetValue<string>(), t["agreement"]!.GetValue<string>())).Order().ToList();
        output.WriteLine($"by institution and local id: {string.Join(", ", reportedByLocal)}");
        Assert.Equal(0, byLocalExit);
        Assert.Equal(simulator, reportedByLocal);

        // Each report on the command line is in the staff audit, by pseudonym: never the identifier typed.
        var audited = await AuditRows.OfAsync("subject-report-viewed");
        output.WriteLine($"audit: {string.Join("; ", audited)}");
        Assert.Equal(2, audited.Count(row => row.StartsWith("cli:", StringComparison.Ordinal) && row.Contains("pseudonym ", StringComparison.Ordinal)));
        Assert.DoesNotContain(audited, row => row.Contains(person.Bsn!, StringComparison.Ordinal) || row.Contains(person.LocalId!, StringComparison.Ordinal));

        // The event published again was a duplicate: one decision per agreement, nothing sent or recorded again.
        await using var database = Npgsql.NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var kinds = database.CreateCommand("SELECT kind, count(*), count(DISTINCT agreement_id) FROM ledger_entry WHERE event_id = $1 GROUP BY kind ORDER BY kind");
        kinds.Parameters.Add(new() { Value = absence.EventId });
        await using var reader = await kinds.ExecuteReaderAsync();
        var counts = new Dictionary<string, (long All, long Agreements)>();
        while (await reader.ReadAsync())
        {
            counts[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        }

        output.WriteLine($"entries of the event published twice: {string.Join(", ", counts.Select(c => $"{c.Key} {c.Value.All} over {c.Value.Agreements} agreement(s)"))}");
        Assert.True(counts.TryGetValue("decision", out var decisions) && decisions.All == decisions.Agreements && decisions.All > 0);
        Assert.False(counts.ContainsKey("outcome"), "the event published again was sent again");
    }
}
