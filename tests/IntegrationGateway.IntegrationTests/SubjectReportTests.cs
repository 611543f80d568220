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
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var (exit, stdout, _) = await GatewayCommandLine.RunAsync(["subject", "report", "--id", person.Bsn!, "--format", "json", .. GatewayCommandLine.DatabaseSettings]);
        var report = JsonNode.Parse(stdout)!.AsArray();
        var theirIds = theirs.Select(e => ((Guid)e.GetType().GetProperty("EventId")!.GetValue(e)!).ToString("D")).ToHashSet();
        var recorded = bed.Receipts.List(null).Where(r => theirIds.Contains(r.IdempotencyKey.Split(':')[0])).ToList();

        var reported = report.Select(t => (t!["recipient"]!.GetValue<string>(), t["agreement"]!.GetValue<string>())).Order().ToList();
        var simulator = recorded.Select(r => (r.Recipient, r.IdempotencyKey.Split(':')[1])).Order().ToList();
        output.WriteLine($"report: {string.Join(", ", reported)}; simulator: {string.Join(", ", simulator)}");
        Assert.Equal(0, exit);
        Assert.NotEmpty(reported);
        Assert.Equal(simulator, reported);
        Assert.DoesNotContain(person.Bsn!, stdout);
        Assert.DoesNotContain(person.FamilyName!, stdout);
        Assert.All(report, t => Assert.NotEmpty(t!["disclosed"]!.AsArray()));
    }
}
