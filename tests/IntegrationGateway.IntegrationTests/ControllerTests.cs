using System.Text;
using System.Text.Json;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace IntegrationGateway.IntegrationTests;

/// <summary>
/// Controllers kept apart over the real broker and database: a publisher speaks only for its own controller, cannot
/// touch a queue, and what a subject says to one controller decides that controller's transfers only.
/// </summary>
public sealed class ControllerTests(ITestOutputHelper output)
{
    const string SchoolA = "12AB";      // school-003 (seed 003), broker user school-003-magister
    const string SchoolB = "23CD";      // demo-school-b, broker user demo-school-b
    const string UserA = "school-003-magister";
    const string UserB = "demo-school-b";

    static byte[] Json(object e) => JsonSerializer.SerializeToUtf8Bytes(e, e.GetType(), EventJsonContext.Default);

    [Fact]
    public async Task AnotherControllersInstitution_OrNoUserId_IsQuarantinedAsSenderNotAuthenticated_RawAndMassTransit()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var generator = new SampleEventGenerator(1701, TimeProvider.System);
        var ofA = Enumerable.Range(0, 4).Select(_ => generator.NextAbsenceReported()).ToList(); // all name school A (12AB)

        // 1. Raw JSON as school B's user (its own, broker-proven user_id) in school A's name.
        await using (var asB = await bed.ConnectIntakePublisherAsync(UserB))
        {
            await asB.PublishAsync(nameof(AbsenceReported), Json(ofA[0]), ofA[0].EventId);
        }

        // 2. Raw JSON as school A's user, but without user_id: not proven, so not taken.
        await using (var connection = await TestBed.ConnectAsPublisherAsync(UserA))
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            await channel.BasicPublishAsync(bed.QueueName, "", mandatory: true, new BasicProperties { Persistent = true, Type = nameof(AbsenceReported) }, Json(ofA[1]));
        }

        // 3. A MassTransit 8.5 publisher connected as school B, in school A's name.
        await bed.Publisher.PublishAs(UserB, ofA[2], typeof(AbsenceReported));

        // 4. And school A as itself: accepted and delivered.
        await bed.Publisher.Publish(ofA[3]);

        await bed.WaitForTakenAsync(4);
        var intake = gateway.Services.GetRequiredService<IntakeCounters>();
        var quarantined = await bed.DrainAsync(bed.QuarantineQueue);
        output.WriteLine(string.Join("\n", quarantined.Select(q => $"{q.MessageId}: {q.Headers[Quarantine.RuleHeader]} at {q.Headers[Quarantine.PathHeader]}")));

        Assert.Equal(3, intake.QuarantinedByRule.GetValueOrDefault(IntakeHandler.SenderNotAuthenticated));
        Assert.Equal(1, intake.Accepted);
        Assert.Equal(ofA.Take(3).Select(e => e.EventId.ToString("D")).Order(), quarantined.Select(q => q.MessageId!).Order());
        Assert.All(quarantined, q => Assert.Equal(IntakeHandler.SenderNotAuthenticated, q.Headers[Quarantine.RuleHeader]));
        // Which user, which institution: no value in the reason, only where to look.
        Assert.Equal(
            ["properties.user_id", "source.institutionId", "source.institutionId"],
            quarantined.Select(q => q.Headers[Quarantine.PathHeader]!).Order());
        Assert.All(quarantined, q => Assert.DoesNotContain(SchoolA, q.Headers[Quarantine.ReasonsHeader]));
        var delivered = await bed.WaitForReceiptsAsync("duo", 1, TimeSpan.FromSeconds(30));
        Assert.Equal(TransferKeys.Of(ofA[3].EventId, "duo-verzuimregister"), Assert.Single(delivered).IdempotencyKey);
    }

    [Fact]
    public async Task APublisher_CannotDeclareBindReadOrPurgeAnyQueue_NorSpeakAsAnotherUser()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(); // the intake queue and its bindings exist
        await using var connection = await TestBed.ConnectAsPublisherAsync(UserA);

        // Each refusal closes the channel: a fresh one for each attempt.
        async Task<ushort> RefusedWith(Func<IChannel, Task> attempt)
        {
            await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => attempt(channel));
            var reason = (refused as OperationInterruptedException)?.ShutdownReason ?? (refused.InnerException as OperationInterruptedException)?.ShutdownReason ?? channel.CloseReason;
            output.WriteLine($"{refused.GetType().Name}: {reason?.ReplyCode} {reason?.ReplyText}");
            return reason?.ReplyCode ?? 0;
        }

        const ushort AccessRefused = 403;
        Assert.Equal(AccessRefused, await RefusedWith(c => c.QueueDeclareAsync("stolen-copies", durable: false, exclusive: false, autoDelete: true)));
        Assert.Equal(AccessRefused, await RefusedWith(c => c.QueueDeclareAsync(bed.QueueName, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" })));
        Assert.Equal(AccessRefused, await RefusedWith(c => c.QueueBindAsync(bed.QueueName, bed.QueueName, "")));
        Assert.Equal(AccessRefused, await RefusedWith(c => c.BasicGetAsync(bed.QueueName, autoAck: true)));
        Assert.Equal(AccessRefused, await RefusedWith(c => c.BasicGetAsync(bed.QuarantineQueue, autoAck: true)));
        Assert.Equal(AccessRefused, await RefusedWith(c => c.QueuePurgeAsync(bed.QueueName)));
        Assert.Equal(AccessRefused, await RefusedWith(c => c.QueueDeleteAsync(bed.QueueName)));
        Assert.Equal(AccessRefused, await RefusedWith(c => c.ExchangeDeleteAsync(bed.QueueName)));
        // The contract exchanges every MassTransit publisher shares, and another publisher's own: neither deleted nor re-declared.
        Assert.Equal(AccessRefused, await RefusedWith(c => c.ExchangeDeleteAsync(IntakeTopology.ContractExchange(nameof(AbsenceReported)))));
        Assert.Equal(AccessRefused, await RefusedWith(c => c.ExchangeDeclareAsync(IntakeTopology.ContractExchange(nameof(AbsenceReported)), ExchangeType.Direct, durable: true)));
        Assert.Equal(AccessRefused, await RefusedWith(c => c.ExchangeDeleteAsync(IntakeTopology.ContractExchange(UserB, nameof(AbsenceReported)))));
        // Its own, it may declare (MassTransit does before publishing), but not unbind from the intake (that takes read on it).
        await using (var own = await connection.CreateChannelAsync())
        {
            await own.ExchangeDeclareAsync(IntakeTopology.ContractExchange(UserA, nameof(AbsenceReported)), ExchangeType.Fanout, durable: true, autoDelete: false);
        }

        Assert.Equal(AccessRefused, await RefusedWith(c => c.ExchangeUnbindAsync(bed.QueueName, IntakeTopology.ContractExchange(UserA, nameof(AbsenceReported)), "")));
        // Another user's user_id: RabbitMQ refuses the publish itself (406 PRECONDITION_FAILED), so a user_id that arrives is proven.
        Assert.Equal((ushort)406, await RefusedWith(c => c.BasicPublishAsync(bed.QueueName, "", mandatory: true, new BasicProperties { UserId = UserB, Type = nameof(AbsenceReported) }, "{}"u8.ToArray()).AsTask()));

        // Nor can the gateway's own broker user (it has no impersonator tag; only the quarantine's republisher has).
        await using (var asGateway = await TestBed.ConnectAsync())
        await using (var channel = await asGateway.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => channel.BasicPublishAsync(bed.QueueName, "", mandatory: true, new BasicProperties { UserId = UserA, Type = nameof(AbsenceReported) }, "{}"u8.ToArray()).AsTask());
            Assert.Equal((ushort)406, ((refused as OperationInterruptedException)?.ShutdownReason ?? channel.CloseReason)?.ReplyCode);
        }

        // What it may do: publish to the intake, as itself.
        var e = new SampleEventGenerator(1702, TimeProvider.System).NextAbsenceReported();
        await using (var publisher = await bed.ConnectIntakePublisherAsync(UserA))
        {
            await publisher.PublishAsync(nameof(AbsenceReported), Json(e), e.EventId);
        }

        Assert.Single(await bed.WaitForReceiptsAsync("duo", 1, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task WhatAPupilSaysToOneSchool_DecidesThatSchoolsTransfersOnly_EitherWay()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var generator = new SampleEventGenerator(1703, TimeProvider.System);
        var now = TimeProvider.System.GetUtcNow();
        EventSource At(string brin) => new() { InstitutionId = brin, System = "Magister" };
        Subject Pupil() => generator.NextDutchEnrolment().Subject;

        // Six pupils, each enrolled at school A and at school B (same BSN, so the same pseudonyms at both).
        var (objectsAtA, objectsAtB, erasedAtA, erasedAtB, consentAtA, consentAtBWithdrawnAtA) = (Pupil(), Pupil(), Pupil(), Pupil(), Pupil(), Pupil());
        object Objection(Subject s, string brin) => ((ObjectionLodged)generator.Next(nameof(ObjectionLodged))) with { Subject = s with { Address = null, Phone = null, Email = null }, Source = At(brin), Jurisdiction = "NL" };
        object Erasure(Subject s, string brin) => ((ErasureRequested)generator.Next(nameof(ErasureRequested))) with { Subject = s, Source = At(brin), Jurisdiction = "NL" };
        object Consent(Subject s, string brin, string status, TimeSpan ago) => ((ConsentChanged)generator.Next(nameof(ConsentChanged))) with
        {
            Subject = s, Source = At(brin), Jurisdiction = "NL", OccurredAt = now - ago,
            Consent = new ConsentChange { Purpose = "school-photos", Status = status, ChangedOn = DateOnly.FromDateTime(now.UtcDateTime), GivenBy = "guardian" },
        };

        object[] said =
        [
            Objection(objectsAtA, SchoolA), Objection(objectsAtB, SchoolB), Erasure(erasedAtA, SchoolA), Erasure(erasedAtB, SchoolB),
            Consent(consentAtA, SchoolA, "given", TimeSpan.FromMinutes(2)),
            Consent(consentAtBWithdrawnAtA, SchoolB, "given", TimeSpan.FromMinutes(2)), Consent(consentAtBWithdrawnAtA, SchoolA, "withdrawn", TimeSpan.FromMinutes(1)),
        ];
        foreach (var e in said)
        {
            await bed.Publisher.Publish(e, e.GetType());
        }

        await bed.WaitForTakenAsync(said.Length);
        var pupils = new[] { objectsAtA, objectsAtB, erasedAtA, erasedAtB, consentAtA, consentAtBWithdrawnAtA };
        var enrolments = pupils.SelectMany(p => new[] { SchoolA, SchoolB }.Select(brin => (Pupil: p, Brin: brin, Event: generator.NextDutchEnrolment() with { Subject = p, Source = At(brin) }))).ToList();
        foreach (var (_, _, e) in enrolments)
        {
            await bed.Publisher.Publish(e);
        }

        await bed.WaitForTakenAsync(said.Length + enrolments.Count);
        async Task<string> Ggd(Subject pupil, string brin) => await DecisionAsync(enrolments.Single(x => x.Pupil == pupil && x.Brin == brin).Event.EventId, "ggd-jeugdgezondheidszorg");
        async Task<string> Photographer(Subject pupil, string brin) => await DecisionAsync(enrolments.Single(x => x.Pupil == pupil && x.Brin == brin).Event.EventId, "schoolfotograaf-beeldmateriaal");

        // An objection (the GGD's agreement stops on one) at A stops A's transfer only, and at B B's only.
        Assert.Equal("school-003 blocked objection-lodged", await Ggd(objectsAtA, SchoolA));
        Assert.Equal("demo-school-b delivered", await Ggd(objectsAtA, SchoolB));
        Assert.Equal("school-003 delivered", await Ggd(objectsAtB, SchoolA));
        Assert.Equal("demo-school-b blocked objection-lodged", await Ggd(objectsAtB, SchoolB));
        // An erasure likewise.
        Assert.Equal("school-003 blocked subject-erased", await Ggd(erasedAtA, SchoolA));
        Assert.Equal("demo-school-b delivered", await Ggd(erasedAtA, SchoolB));
        Assert.Equal("school-003 delivered", await Ggd(erasedAtB, SchoolA));
        Assert.Equal("demo-school-b blocked subject-erased", await Ggd(erasedAtB, SchoolB));
        // A consent given to A does not authorise B's photographer; one given to B is not withdrawn by a withdrawal sent to A.
        Assert.Equal("demo-school-b blocked consent-missing", await Photographer(consentAtA, SchoolB));
        Assert.Equal("demo-school-b delivered", await Photographer(consentAtBWithdrawnAtA, SchoolB));
        // School A is not party to the photographer's agreement at all: denied as such, whatever the pupil said.
        Assert.Equal("school-003 blocked controller-not-party", await Photographer(consentAtA, SchoolA));
    }

    [Fact]
    public async Task AnErasureAtOneSchool_IsNoticedToThatSchoolsRecipientsOnly()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var generator = new SampleEventGenerator(1705, TimeProvider.System);
        var now = TimeProvider.System.GetUtcNow();
        var atA = generator.NextDutchEnrolment();
        var pupil = atA.Subject;
        var sourceB = new EventSource { InstitutionId = SchoolB, System = "Magister" };
        // School B (party to the photographer's agreement) has the parents' consent: its enrolment reaches the photographer too.
        var consentAtB = ((ConsentChanged)generator.Next(nameof(ConsentChanged))) with
        {
            Subject = pupil, Source = sourceB, Jurisdiction = "NL", OccurredAt = now.AddMinutes(-5),
            Consent = new ConsentChange { Purpose = "school-photos", Status = "given", ChangedOn = DateOnly.FromDateTime(now.UtcDateTime), GivenBy = "guardian" },
        };
        await bed.Publisher.Publish(consentAtB);
        await bed.WaitForTakenAsync(1);
        var atB = generator.NextDutchEnrolment() with { Subject = pupil, Source = sourceB };
        await bed.Publisher.Publish(atA);
        await bed.Publisher.Publish(atB);
        await bed.WaitForTakenAsync(3);
        Assert.Equal("demo-school-b delivered", await DecisionAsync(atB.EventId, "schoolfotograaf-beeldmateriaal"));

        // School A's erasure request: A tells the recipients A sent the pupil's data to, and no one B alone did.
        var erasure = ((ErasureRequested)generator.Next(nameof(ErasureRequested))) with { Subject = pupil, Source = atA.Source, Jurisdiction = "NL" };
        await bed.Publisher.Publish(erasure);
        await bed.WaitForTakenAsync(4);

        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand("SELECT controller || ' ' || agreement_id FROM ledger_entry WHERE kind = 'decision' AND event_id = $1 ORDER BY agreement_id");
        command.Parameters.Add(new() { Value = erasure.EventId });
        var notices = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                notices.Add(reader.GetString(0));
            }
        }

        output.WriteLine(string.Join("; ", notices));
        Assert.Equal(
            ["school-003 duo-bron-inschrijvingen-examens", "school-003 ggd-jeugdgezondheidszorg", "school-003 leerplicht-inschrijvingen"],
            notices);
        Assert.DoesNotContain(bed.Receipts.List("schoolfotograaf"), r => r.IsOf(erasure.EventId));
    }

    [Fact]
    public async Task TheCareCentre_TheCourseProvider_AndIntegrationAgency_AreKnownByTheirIds_AndTheirEventsRoute()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var generator = new SampleEventGenerator(1704, TimeProvider.System);

        // CvOZ (seed 001) by its KvK number: a referred client's support plan to the municipality's family coach.
        SupportPlanUpdated plan;
        do
        {
            plan = (SupportPlanUpdated)generator.Next(nameof(SupportPlanUpdated));
        }
        while (plan.SupportPlan.Referral is null);

        plan = plan with { Source = new EventSource { InstitutionId = "74378023", System = "online cliëntendossier" } };
        // Onderwijs.pro (seed 004) by its KvK number: a Flexibele Leerroute candidate to the test bureau, with an
        // onderwijsnummer where a pupil would have a BSN (which the bureau never receives).
        var candidate = generator.NextDutchEnrolment() with { Source = new EventSource { InstitutionId = "12345678", System = "website" } };
        candidate = candidate with { Enrolment = candidate.Enrolment with { Programme = "Flexibele Leerroute" } };
        // IN-Gent (seed 002) by its KBO number.
        var intake = (IntegrationIntakeCompleted)generator.Next(nameof(IntegrationIntakeCompleted));
        intake = intake with { Source = intake.Source with { InstitutionId = "0507873093" } };
        // School A, for a pupil with an onderwijsnummer instead of a BSN: DUO gets it in its own field.
        var noBsn = generator.NextDutchEnrolment();
        noBsn = noBsn with { Subject = noBsn.Subject with { Bsn = null, Onderwijsnummer = "101222331" } };

        await using (var publishers = bed.ControllerPublishers())
        {
            foreach (var e in new object[] { plan, candidate, intake, noBsn })
            {
                var source = (EventSource)e.GetType().GetProperty("Source")!.GetValue(e)!;
                await publishers.PublishAsync(e.GetType().Name, Json(e), (Guid)e.GetType().GetProperty("EventId")!.GetValue(e)!, source.InstitutionId, CancellationToken.None);
            }

            Assert.Equal(["cvoz-clientdossier", "in-gent-kbi", "onderwijs-pro-web", "school-003-magister"], publishers.Published.Keys.Order());
        }

        await bed.WaitForTakenAsync(4);
        Assert.Equal(0u, await bed.MessagesInQueueAsync(bed.QuarantineQueue));
        Assert.Equal("cvoz delivered", await DecisionAsync(plan.EventId, "gezinscoach-gemeente"));
        Assert.Equal("onderwijs-pro delivered", await DecisionAsync(candidate.EventId, "toetsbureau-examenaanmelding"));
        Assert.Equal("in-gent delivered", await DecisionAsync(intake.EventId, "agii-kruispuntbank-inburgering"));
        Assert.Equal("school-003 delivered", await DecisionAsync(noBsn.EventId, "duo-bron-inschrijvingen-examens"));

        var toDuo = Assert.Single(await bed.WaitForReceiptsAsync("duo", 1, TimeSpan.FromSeconds(30)));
        var subject = toDuo.Body!["record"]!["subject"]!;
        Assert.Equal("101222331", subject["onderwijsnummer"]!.GetValue<string>());
        Assert.Null(subject["bsn"]);
        var toBureau = Assert.Single(await bed.WaitForReceiptsAsync("toetsbureau", 1, TimeSpan.FromSeconds(30)));
        Assert.Null(toBureau.Body!["record"]!["subject"]!["onderwijsnummer"]);
        Assert.Null(toBureau.Body!["record"]!["subject"]!["bsn"]);
    }

    /// <summary>The decision the ledger holds for one event under one agreement: controller, outcome and reasons.</summary>
    static async Task<string> DecisionAsync(Guid eventId, string agreement)
    {
        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand(
            "SELECT controller || ' ' || outcome || coalesce(' ' || nullif(array_to_string(reasons, ','), ''), '') FROM ledger_entry WHERE kind = 'decision' AND event_id = $1 AND agreement_id = $2");
        command.Parameters.Add(new() { Value = eventId });
        command.Parameters.Add(new() { Value = agreement });
        return (string?)await command.ExecuteScalarAsync() ?? "no decision";
    }
}
