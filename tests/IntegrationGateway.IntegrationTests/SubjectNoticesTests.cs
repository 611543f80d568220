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
        var taken = bed.Taken;
        await bed.Publisher.Publish(rectification);
        var noticesExpected = before.Count(r => HadAddress(r));
        await TestBed.WaitUntilAsync("the rectification's notices", () => ReceiptsOf(bed, rectification.EventId).Count >= noticesExpected, TimeSpan.FromSeconds(30));
        await bed.WaitForTakenAsync(taken + 1); // the rectification settled: anything more that would (wrongly) arrive is there

        var notices = ReceiptsOf(bed, rectification.EventId);
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
            output.WriteLine($"{notice.Recipient} ({notice.AgreementOf()}): {Leaves(record)}");
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
    public async Task Erasure_NoticesReachTheEarlierRecipients_WhoseAdapterTakesThem_OthersAreRecorded_AndLaterTransfersAreDenied()
    {
        await using var bed = await TestBed.StartAsync();
        // The photographer (a JSON recipient) is set up as one that takes no erasure notices.
        await using var gateway = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?> { ["Recipients:schoolfotograaf:ErasureNotices"] = "false" });
        // A synthetic school party to the consent-based photographer agreement (deploy/config/controllers/demo-school-b.yaml).
        var generator = new SampleEventGenerator(1302, TimeProvider.System) { DutchSchool = "23CD" };
        var (person, source, before) = await PupilWithHistoryAsync(bed, generator, enrolled: true, photoConsent: true);

        var erasure = ((ErasureRequested)generator.Next(nameof(ErasureRequested))) with { Subject = person, Source = source, Jurisdiction = "NL" };
        var taken = bed.Taken;
        await bed.Publisher.Publish(erasure);
        await TestBed.WaitUntilAsync("the erasure's notices", () => ReceiptsOf(bed, erasure.EventId).Count >= 3, TimeSpan.FromSeconds(30));
        await bed.WaitForTakenAsync(taken + 1);

        var notices = ReceiptsOf(bed, erasure.EventId);
        var recorded = await LedgerOfAsync(erasure.EventId);
        output.WriteLine($"earlier recipients: {string.Join(", ", before.Select(Key).Distinct().Order())}; erasure notices to: {string.Join(", ", notices.Select(Key))}");
        output.WriteLine($"ledger: {string.Join("; ", recorded)}");
        Assert.Equal(new[] { "duo", "ggd", "leerplicht", "schoolfotograaf" }, before.Select(r => r.Recipient).Distinct().Order());
        // The GGD and the officer are told (the officer keeps what its legal obligation needs, and is told all the same).
        // The photographer's and DUO's adapters take no erasure notice: recorded, for someone to tell them.
        Assert.Equal(["ggd/ggd-jeugdgezondheidszorg", "leerplicht/leerplicht-inschrijvingen", "leerplicht/leerplicht-verzuim"], notices.Select(Key).Order());
        foreach (var notice in notices)
        {
            var record = notice.Body!["record"]!;
            Assert.Empty(notice.FieldsOutsideAllowList);
            Assert.Equal("ErasureRequested", notice.Body["eventType"]!.GetValue<string>());
            Assert.NotNull(record["erasure"]!["requestedOn"]);
            Assert.Null(record["subject"]!["address"]); // what identifies the person, nothing more
        }

        Assert.Contains(recorded, r => r.StartsWith("decision blocked schoolfotograaf schoolfotograaf-beeldmateriaal (notice-not-supported)", StringComparison.Ordinal));
        Assert.Contains(recorded, r => r.StartsWith("decision blocked duo duo-bron-inschrijvingen-examens (notice-not-supported)", StringComparison.Ordinal));
        Assert.Contains(recorded, r => r.StartsWith("decision blocked duo duo-verzuimregister (notice-not-supported)", StringComparison.Ordinal));
        Assert.Equal(6, recorded.Count); // one decision per earlier (recipient, agreement)

        // From now on: denied with subject-erased, except under the overriding legal obligations.
        var later = (StudentEnrolled)generator.Next(nameof(StudentEnrolled)) with { Subject = person, Source = source, Jurisdiction = "NL" };
        await bed.Publisher.Publish(later);
        await TestBed.WaitUntilAsync("the later enrolment's receipts", () => ReceiptsOf(bed, later.EventId).Count >= 2, TimeSpan.FromSeconds(30));
        await bed.WaitForTakenAsync(taken + 2);
        var afterwards = await LedgerOfAsync(later.EventId);
        output.WriteLine($"a later enrolment: {string.Join("; ", afterwards)}");
        Assert.Contains(afterwards, r => r.StartsWith("decision blocked ggd ggd-jeugdgezondheidszorg (subject-erased)", StringComparison.Ordinal));
        Assert.Contains(afterwards, r => r.StartsWith("decision blocked schoolfotograaf schoolfotograaf-beeldmateriaal (subject-erased)", StringComparison.Ordinal));
        Assert.Contains(afterwards, r => r.StartsWith("decision delivered duo", StringComparison.Ordinal));
        Assert.Contains(afterwards, r => r.StartsWith("decision delivered leerplicht", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ParkedTransfer_IsDecidedAgainBeforeItIsSent_AnErasureMeanwhileBlocksIt()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?>(TestServices.FastDelivery));
        var generator = new SampleEventGenerator(1303, TimeProvider.System);
        var enrolment = generator.NextDutchEnrolment();

        // The GGD is down for a while: its transfer is parked; DUO and the officer get theirs.
        bed.SimulatorBehaviour.Set("ggd", new AgencySimulator.Misbehaviour(503, null, false, TimeSpan.Zero, TimeProvider.System.GetUtcNow().AddSeconds(6)));
        await bed.Publisher.Publish(enrolment);
        await bed.WaitForParkedAsync(1, TimeSpan.FromSeconds(20));

        // Meanwhile the subject asks for erasure. When the GGD is back, the parked transfer is decided again: blocked.
        await bed.Publisher.Publish(((ErasureRequested)generator.Next(nameof(ErasureRequested))) with { Subject = enrolment.Subject, Source = enrolment.Source, Jurisdiction = "NL" });
        var left = await bed.WaitForParkedAsync(0, TimeSpan.FromSeconds(40));
        var recorded = await LedgerOfAsync(enrolment.EventId);
        output.WriteLine($"parked left {left}; GGD receipts {bed.Receipts.List("ggd").Count}; ledger: {string.Join("; ", recorded)}");
        Assert.Equal(0, left);
        Assert.Empty(bed.Receipts.List("ggd"));
        Assert.Contains(recorded, r => r.StartsWith("decision parked ggd", StringComparison.Ordinal));
        Assert.Contains(recorded, r => r.StartsWith("outcome blocked ggd ggd-jeugdgezondheidszorg (subject-erased)", StringComparison.Ordinal));
    }

    /// <summary>
    /// A Dutch pupil reported absent (DUO and the compulsory-education officer receive it), and when
    /// <paramref name="enrolled"/> also enrolled (DUO, the officer and the GGD): what each recipient received.
    /// </summary>
    static async Task<(Subject Person, EventSource Source, List<AgencySimulator.Receipt> Received)> PupilWithHistoryAsync(
        TestBed bed, SampleEventGenerator generator, bool enrolled, bool photoConsent = false)
    {
        var enrolment = generator.NextDutchEnrolment(withAddress: true);

        var absence = generator.NextAbsenceReported() with { Subject = enrolment.Subject, Source = enrolment.Source, Jurisdiction = "NL" };
        if (photoConsent)
        {
            // Consent first, so the enrolment reaches the school photographer too.
            await bed.Publisher.Publish(((ConsentChanged)generator.Next(nameof(ConsentChanged))) with
            {
                Subject = enrolment.Subject, Source = enrolment.Source, Jurisdiction = "NL", OccurredAt = TimeProvider.System.GetUtcNow().AddMinutes(-1),
                Consent = new ConsentChange { Purpose = "school-photos", Status = "given", ChangedOn = DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime) },
            });
            await bed.WaitForTakenAsync(1);
        }

        if (enrolled)
        {
            await bed.Publisher.Publish(enrolment);
        }

        await bed.Publisher.Publish(absence);
        List<AgencySimulator.Receipt> Theirs() => bed.Receipts.List(null).Of([enrolment.EventId, absence.EventId]);
        await TestBed.WaitUntilAsync("the pupil's history at every recipient", () => Theirs().Select(r => r.Recipient).Distinct().Count() >= (enrolled ? 3 : 2) + (photoConsent ? 1 : 0), TimeSpan.FromSeconds(30));
        await bed.WaitForTakenAsync((photoConsent ? 1 : 0) + (enrolled ? 1 : 0) + 1);
        return (enrolment.Subject, enrolment.Source, Theirs());
    }

    static bool HadAddress(AgencySimulator.Receipt receipt) => receipt.Body?["record"]?["subject"]?["address"] is not null;

    static string Key(AgencySimulator.Receipt receipt) => $"{receipt.Recipient}/{receipt.AgreementOf()}";

    static List<AgencySimulator.Receipt> ReceiptsOf(TestBed bed, Guid eventId) =>
        [.. bed.Receipts.List(null).Where(r => r.IsOf(eventId))];

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
