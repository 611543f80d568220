using System.Text.Json.Nodes;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Npgsql;

namespace IntegrationGateway.IntegrationTests;

/// <summary>
/// GDPR art. 19 end to end: a correction reaches exactly the recipients that had received what changed, and only
/// that; an erasure notice reaches the earlier recipients whose adapter takes one, and the others are recorded as
/// not told. What "had received" means is read from the simulator's own records, not from the gateway's ledger.
/// </summary>
public sealed class SubjectNoticesTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RectifiedAddress_ReachesExactlyTheRecipientsThatHadTheAddress_WithOnlyWhatChanged()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var generator = new SampleEventGenerator(1301, TimeProvider.System);
        // This pupil was only reported absent: DUO (no address) and the officer (address). Another pupil was also
        // enrolled, so the GGD has their address: a notice there would mean another person's history was used.
        var (person, source, before) = await PupilWithHistoryAsync(bed, generator, enrolled: false);
        await PupilWithHistoryAsync(bed, generator, enrolled: true);

        // The school corrects the address (the person moved within the city: street and number change).
        var corrected = person with { Address = person.Address! with { Street = "Correctiestraat", HouseNumber = "7" } };
        var rectification = ((PersonalDataRectified)generator.Next(nameof(PersonalDataRectified))) with
        {
            Subject = corrected, Source = source, Jurisdiction = "NL",
            Rectification = new Rectification { Date = DateOnly.FromDateTime(DateTime.UnixEpoch), ChangedFields = ["subject.address"] },
        };
        await bed.Publisher.Publish(rectification);
        var noticesExpected = before.Count(r => HadAddress(r));
        await TestBed.WaitUntilAsync(() => NoticesOf(bed, rectification.EventId).Count >= noticesExpected, TimeSpan.FromSeconds(30));
        await Task.Delay(1000); // anything more that would (wrongly) arrive

        var notices = NoticesOf(bed, rectification.EventId);
        var hadAddress = before.Where(HadAddress).Select(Key).Order().ToList();
        var told = notices.Select(Key).Order().ToList();
        output.WriteLine($"before: {string.Join(", ", before.Select(r => $"{Key(r)}{(HadAddress(r) ? " (address)" : "")}"))}");
        output.WriteLine($"had the address: {string.Join(", ", hadAddress)}; told of the correction: {string.Join(", ", told)}");
        Assert.NotEmpty(hadAddress);
        Assert.Contains(before, r => !HadAddress(r)); // some recipients never had the address...
        Assert.Equal(hadAddress, told); // ...and get nothing
        foreach (var notice in notices)
        {
            var record = notice.Body!["record"]!;
            output.WriteLine($"{notice.Recipient} ({notice.IdempotencyKey.Split(':')[1]}): {Leaves(record)}");
            Assert.Empty(notice.FieldsOutsideAllowList);
            Assert.Equal("PersonalDataRectified", notice.Body["eventType"]!.GetValue<string>());
            Assert.Equal("Correctiestraat", record["subject"]!["address"]!["street"]!.GetValue<string>());
            Assert.Equal(["subject.address"], record["rectification"]!["changedFields"]!.AsArray().Select(f => f!.GetValue<string>()));
            // Only what changed, and what identifies the person: nothing else of the event's subject, no guardians.
            Assert.Null(record["subject"]!["phone"]);
            Assert.Null(record["subject"]!["email"]);
            Assert.Null(record["guardians"]);
        }

        Assert.DoesNotContain(notices, n => n.Recipient == "ggd");

        // The ledger records the notices and still verifies.
        var recorded = await LedgerOfAsync(rectification.EventId);
        output.WriteLine($"ledger: {string.Join("; ", recorded)}");
        Assert.Equal(told.Count, recorded.Count(r => r.StartsWith("decision delivered", StringComparison.Ordinal)));
        Assert.All(recorded, r => Assert.Contains("subject.address", r));
        var (exit, verify, _) = await GatewayCommandLine.RunAsync(["ledger", "verify", .. GatewayCommandLine.DatabaseSettings]);
        output.WriteLine(verify.Trim());
        Assert.Equal(0, exit);
    }

    [Fact]
    public async Task Erasure_NoticesReachTheEarlierRecipients_WhoseAdapterTakesThem_TheOthersAreRecordedAsNotTold()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var generator = new SampleEventGenerator(1302, TimeProvider.System);
        var (person, source, before) = await PupilWithHistoryAsync(bed, generator, enrolled: true);

        var erasure = ((ErasureRequested)generator.Next(nameof(ErasureRequested))) with { Subject = person, Source = source, Jurisdiction = "NL" };
        await bed.Publisher.Publish(erasure);
        var earlier = before.Select(r => r.Recipient).Distinct().Order().ToList();
        var takers = earlier.Where(r => r != "duo").ToList(); // DUO's adapter takes no erasure notices (BRON is a legal obligation)
        await TestBed.WaitUntilAsync(() => NoticesOf(bed, erasure.EventId).Select(n => n.Recipient).Distinct().Count() >= takers.Count, TimeSpan.FromSeconds(30));
        await Task.Delay(1000);

        var notices = NoticesOf(bed, erasure.EventId);
        var recorded = await LedgerOfAsync(erasure.EventId);
        output.WriteLine($"earlier recipients: {string.Join(", ", earlier)}; erasure notices to: {string.Join(", ", notices.Select(Key))}");
        output.WriteLine($"ledger: {string.Join("; ", recorded)}");
        Assert.Equal(takers, notices.Select(n => n.Recipient).Distinct().Order());
        Assert.Equal(before.Where(r => r.Recipient != "duo").Select(r => r.IdempotencyKey.Split(':')[1]).Distinct().Order(), notices.Select(n => n.IdempotencyKey.Split(':')[1]).Order());
        foreach (var notice in notices)
        {
            var record = notice.Body!["record"]!;
            Assert.Empty(notice.FieldsOutsideAllowList);
            Assert.NotNull(record["erasure"]!["requestedOn"]);
            Assert.Null(record["subject"]!["address"]); // identifying fields only
        }

        Assert.Contains(recorded, r => r.StartsWith("decision blocked duo", StringComparison.Ordinal) && r.Contains("notice-not-supported", StringComparison.Ordinal));
    }

    /// <summary>
    /// A Dutch pupil reported absent (DUO and the compulsory-education officer receive it), and when
    /// <paramref name="enrolled"/> also enrolled (DUO, the officer and the GGD): what each recipient received.
    /// </summary>
    static async Task<(Subject Person, EventSource Source, List<AgencySimulator.Receipt> Received)> PupilWithHistoryAsync(TestBed bed, SampleEventGenerator generator, bool enrolled)
    {
        StudentEnrolled enrolment;
        do
        {
            enrolment = (StudentEnrolled)generator.Next(nameof(StudentEnrolled));
        }
        while (enrolment.Jurisdiction != "NL" || enrolment.Subject.Address is null);

        var absence = generator.NextAbsenceReported() with { Subject = enrolment.Subject, Source = enrolment.Source, Jurisdiction = "NL" };
        if (enrolled)
        {
            await bed.Publisher.Publish(enrolment);
        }

        await bed.Publisher.Publish(absence);
        string[] ids = [enrolment.EventId.ToString("D"), absence.EventId.ToString("D")];
        List<AgencySimulator.Receipt> Theirs() => [.. bed.Receipts.List(null).Where(r => ids.Contains(r.IdempotencyKey.Split(':')[0]))];
        await TestBed.WaitUntilAsync(() => Theirs().Select(r => r.Recipient).Distinct().Count() >= (enrolled ? 3 : 2), TimeSpan.FromSeconds(30));
        await Task.Delay(500);
        return (enrolment.Subject, enrolment.Source, Theirs());
    }

    static bool HadAddress(AgencySimulator.Receipt receipt) => receipt.Body?["record"]?["subject"]?["address"] is not null;

    static string Key(AgencySimulator.Receipt receipt) => $"{receipt.Recipient}/{receipt.IdempotencyKey.Split(':')[1]}";

    static List<AgencySimulator.Receipt> NoticesOf(TestBed bed, Guid eventId) =>
        [.. bed.Receipts.List(null).Where(r => r.IdempotencyKey.StartsWith(eventId.ToString("D"), StringComparison.Ordinal))];

    static string Leaves(JsonNode node, string prefix = "") => node switch
    {
        JsonObject o => string.Join(", ", o.Select(p => Leaves(p.Value!, prefix.Length == 0 ? p.Key : $"{prefix}.{p.Key}"))),
        JsonArray => prefix + "[]",
        _ => prefix,
    };

    static async Task<List<string>> LedgerOfAsync(Guid eventId)
    {
        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand(
            "SELECT kind, outcome, recipient, agreement_id, array_to_string(reasons, ','), array_to_string(disclosed, ',') FROM ledger_entry WHERE event_id = $1 ORDER BY recipient, agreement_id");
        command.Parameters.Add(new() { Value = eventId });
        await using var reader = await command.ExecuteReaderAsync();
        var entries = new List<string>();
        while (await reader.ReadAsync())
        {
            entries.Add($"{reader.GetString(0)} {reader.GetString(1)} {reader.GetString(2)} {reader.GetString(3)} ({reader.GetString(4)}) [{reader.GetString(5)}]");
        }

        return entries;
    }
}
