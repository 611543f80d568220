using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests;

/// <summary>One event type from a publisher over the real RabbitMQ, through the gateway, to DUO's endpoint.</summary>
public sealed class EndToEndTests(ITestOutputHelper output)
{
    static readonly string[] DuoAllowList =
        ["eventId", "occurredAt", "source.institutionId", "subject.bsn", "subject.birthDate", "absence.from", "absence.to", "absence.kind", "absence.hours"];

    [Fact]
    public async Task AbsenceReported_PublishedOverRabbitMq_ReachesDuoOnceWithOnlyTheAllowedFields()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var events = new SampleEventGenerator(11, TimeProvider.System).AbsenceReported(20);

        await bed.PublishAsync(events);
        var receipts = await bed.WaitForReceiptsAsync("duo", events.Count, TimeSpan.FromSeconds(60));

        Assert.Equal(events.Count, receipts.Count);
        foreach (var e in events)
        {
            var receipt = Assert.Single(receipts, r => r.IdempotencyKey == TransferKeys.Of(e.EventId, "duo-verzuimregister"));
            Assert.Equal(1, receipt.Deliveries);
            Assert.Equal("verzuimmeldingen", receipt.Path);
            var body = JsonDocument.Parse(receipt.Body!.ToJsonString()).RootElement;
            Assert.Equal("duo-verzuimregister", body.GetProperty("agreement").GetString());
            var record = body.GetProperty("record");
            Assert.Equal(e.Subject.Bsn, record.GetProperty("subject").GetProperty("bsn").GetString());
            Assert.Subset(DuoAllowList.ToHashSet(), LeafPaths(record).ToHashSet());
        }

        output.WriteLine($"published {events.Count}, receipts {receipts.Count}, deliveries {receipts.Sum(r => r.Deliveries)}");
    }

    [Fact]
    public async Task StudentEnrolled_ReachesEveryRecipientWhoseAgreementAllowsIt_AndOnlyThose()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var generator = new SampleEventGenerator(12, TimeProvider.System);
        var events = Enumerable.Range(0, 10).Select(_ => (StudentEnrolled)generator.Next(nameof(StudentEnrolled))).ToList();
        var agreements = IntegrationGateway.Gateway.Policy.AgreementLoader.LoadDirectory(TestServices.Agreements).Agreements.ToDictionary(a => a.Id);

        await bed.PublishAsync(events);
        var duo = await bed.WaitForReceiptsAsync("duo", events.Count, TimeSpan.FromSeconds(60));
        var leerplicht = await bed.WaitForReceiptsAsync("leerplicht", events.Count, TimeSpan.FromSeconds(30));
        var ggd = await bed.WaitForReceiptsAsync("ggd", events.Count, TimeSpan.FromSeconds(30));

        Assert.Equal(events.Count, duo.Count);
        Assert.Equal(events.Count, leerplicht.Count);
        Assert.Equal(events.Count, ggd.Count);
        Assert.All(duo, r => Assert.Equal("bron/inschrijvingen", r.Path));
        // The school photographer's ground is consent, and no consent is known: nothing goes there.
        Assert.Empty(bed.Receipts.List("schoolfotograaf"));
        foreach (var receipt in duo.Concat(leerplicht).Concat(ggd))
        {
            var body = JsonDocument.Parse(receipt.Body!.ToJsonString()).RootElement;
            var agreement = agreements[body.GetProperty("agreement").GetString()!];
            var outside = LeafPaths(body.GetProperty("record")).Where(p => !agreement.Fields.Paths.Any(a => IntegrationGateway.Gateway.Policy.EventCatalogue.Covers(a, p))).ToList();
            Assert.True(outside.Count == 0, $"{agreement.Id} received {string.Join(", ", outside)}");
            Assert.Equal(1, receipt.Deliveries);
        }

        // The GGD gets contact data and class, never the BSN.
        Assert.All(ggd, r => Assert.DoesNotContain("bsn", r.Body!.ToJsonString()));
    }

    [Fact]
    public async Task AttendanceRegistered_InFlanders_ReachesTheDepartmentAsSignedXml_WithinItsAllowList()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var generator = new SampleEventGenerator(14, TimeProvider.System);
        var events = Enumerable.Range(0, 40).Select(_ => (AttendanceRegistered)generator.Next(nameof(AttendanceRegistered))).Where(e => e.Jurisdiction == "BE-VLG").ToList();
        Assert.NotEmpty(events);

        await bed.PublishAsync(events);
        var receipts = await bed.WaitForReceiptsAsync("departement-onderwijs", events.Count, TimeSpan.FromSeconds(60));

        Assert.Equal(events.Count, receipts.Count);
        Assert.All(receipts, r =>
        {
            Assert.Equal("xml", r.Format);
            Assert.Equal("meldingen", r.Path);
            Assert.Empty(r.FieldsOutsideAllowList);
            Assert.Equal("departement-onderwijs-volwassenenonderwijs", r.Body!["agreement"]!.GetValue<string>());
        });
        var e = events[0];
        var receipt = Assert.Single(receipts, r => r.IsOf(e.EventId));
        Assert.Equal(e.Subject.Rijksregisternummer, receipt.Body!["record"]!["subject"]!["rijksregisternummer"]!.GetValue<string>());
    }

    [Fact]
    public async Task AttendanceOfAMinorWithUnauthorisedAbsence_ReachesTheClbAsSignedCsvThroughItsRefitClient_AdultsNever()
    {
        await using var bed = await TestBed.StartAsync();
        // The shipped CLB agreement waits for a verified article (instrument-incomplete): here it has a test's.
        await using var gateway = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?> { ["Agreements:Directory"] = TestServices.AgreementsAsIfComplete });
        var generator = new SampleEventGenerator(15, TimeProvider.System);
        var events = Enumerable.Range(0, 30).Select(_ => (AttendanceRegistered)generator.Next(nameof(AttendanceRegistered))).ToList();
        var minors = events.Where(e => e.Subject.BirthDate!.Value.AddYears(18) > DateOnly.FromDateTime(e.OccurredAt.UtcDateTime) && e.Attendance.HoursAbsentUnauthorised is not null).ToList();
        Assert.NotEmpty(minors);

        await bed.PublishAsync(events);
        // Every event settled (all its transfers done), so a CLB receipt that should not be there would be.
        var counters = gateway.Services.GetRequiredService<Gateway.Delivery.TransferCounters>();
        await TestBed.WaitUntilAsync($"{events.Count} events to settle", () => counters.Snapshot().EventsSettled >= events.Count, TimeSpan.FromSeconds(60));
        Assert.True(counters.Snapshot().EventsSettled >= events.Count, $"timed out waiting for {events.Count} events to settle");
        var receipts = bed.Receipts.List("clb");

        output.WriteLine($"{events.Count} attendance events, {minors.Count} of minors with unauthorised absence; CLB receipts {receipts.Count}");
        Assert.Equal(minors.Select(m => TransferKeys.Of(m.EventId, "clb-afwezigheden")).Order(), receipts.Select(r => r.IdempotencyKey).Order());
        Assert.All(receipts, r =>
        {
            Assert.Equal("csv", r.Format);
            Assert.Equal("meldingen", r.Path);
            Assert.Empty(r.FieldsOutsideAllowList);
            Assert.Null(r.Body!["record"]!["subject"]!["rijksregisternummer"]); // no national identifier to the CLB
        });
        var minor = minors[0];
        var record = Assert.Single(receipts, r => r.IsOf(minor.EventId)).Body!["record"]!;
        Assert.Equal(minor.Subject.FamilyName, record["subject"]!["familyName"]!.GetValue<string>());
        Assert.Equal(minor.Guardians![0].Phone, record["guardians"]![0]!["phone"]!.GetValue<string>());
    }

    [Fact]
    public async Task DataSubjectEvents_AreTakenFromTheIntake_AndNoticesGoOnlyWhereThereIsHistory()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var generator = new SampleEventGenerator(13, TimeProvider.System);
        object[] subjectEvents = [generator.Next(nameof(ObjectionLodged)), generator.Next(nameof(ConsentChanged)), generator.Next(nameof(ErasureRequested)), generator.Next(nameof(PersonalDataRectified))];
        var absence = generator.NextAbsenceReported();

        foreach (var e in subjectEvents)
        {
            await bed.Publisher.Publish(e, e.GetType());
        }

        await bed.PublishAsync([absence]);
        await bed.WaitForReceiptsAsync("duo", 1, TimeSpan.FromSeconds(30));
        // Every message taken from the intake (the four subject events and the absence), not a fixed wait.
        var intake = gateway.Services.GetRequiredService<Gateway.Intake.IntakeCounters>();
        await TestBed.WaitUntilAsync("every message to be taken from the intake", () => intake.Accepted + intake.Quarantined >= subjectEvents.Length + 1, TimeSpan.FromSeconds(30));

        Assert.Equal(subjectEvents.Length + 1, intake.Accepted);
        Assert.Equal(0u, await bed.MessagesInQueueAsync(bed.QueueName));
        Assert.Equal(0u, await bed.MessagesInQueueAsync(bed.QuarantineQueue));
        Assert.Single(bed.Receipts.List("duo")); // the absence was delivered; nothing of the subject events was
    }

    [Fact]
    public async Task HealthReady_WithBrokerAndDatabaseUp_ReportsBothHealthy()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        using var http = new HttpClient { BaseAddress = new Uri(gateway.Urls.First()) };

        using var ready = await http.GetAsync("/health/ready");
        var report = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
        using var live = await http.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var checks = report.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal("Healthy", checks["rabbitmq"]);
        Assert.Equal("Healthy", checks["postgres"]);
    }

    static IEnumerable<string> LeafPaths(JsonElement element, string prefix = "")
    {
        IEnumerable<string> children = element.ValueKind switch
        {
            JsonValueKind.Object => element.EnumerateObject().SelectMany(p => LeafPaths(p.Value, prefix.Length == 0 ? p.Name : $"{prefix}.{p.Name}")),
            JsonValueKind.Array => element.EnumerateArray().SelectMany(e => LeafPaths(e, prefix + "[]")),
            _ => [],
        };
        var any = false;
        foreach (var path in children)
        {
            any = true;
            yield return path;
        }

        if (!any)
        {
            yield return prefix;
        }
    }
}
