using System.Text.Json;
using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Storage;

namespace IntegrationGateway.Tests.Component;

/// <summary>The pipeline on one event and the scheduler on what it parked: in-memory stores, a fake clock.</summary>
[Trait("Tier", "Component")]
public class PipelineAndSchedulerTests
{
    readonly ComponentBed _bed = new();

    static Agreement Agreement(string id, string recipient, DateOnly? until = null, string[]? senders = null) =>
        TestAgreements.Build(id: id, recipient: recipient, until: until, senders: senders, fields: ["eventId", "subject.bsn", "absence"]);

    /// <summary>The idempotency key the recipient sees: its own reference for the event, and the agreement.</summary>
    string KeyOf(Guid eventId, string recipient, string agreementId) => Adapters.OutboundTransfer.KeyFor(_bed.Keys.TransferReference(eventId, recipient), agreementId);

    Task ProcessAsync(TransferPipeline pipeline, JsonElement body, bool redelivered = false) =>
        pipeline.ProcessAsync(body.GetProperty("eventId").GetGuid(), EventFacts.Of("AbsenceReported", body, TestAgreements.Sender), body, CancellationToken.None, redelivered);

    [Fact]
    public async Task Process_TwoRecipients_EachDecisionInTheLedgerWithItsFirstOutcome_TheFailingOneParked()
    {
        var (e, _, body) = TestAgreements.AbsenceReported();
        var duo = new ScriptedRecipient("duo", ScriptedRecipient.Answer(201));
        var leerplicht = new ScriptedRecipient("leerplicht", ScriptedRecipient.Answer(503));
        var pipeline = _bed.Gateway.Pipeline(new PolicyEngine([Agreement("a-duo", "duo"), Agreement("a-lp", "leerplicht")]), TestGateway.Adapters(duo, leerplicht));
        Guid? settled = null;
        _bed.Counters.EventSettled += id => settled = id;

        await ProcessAsync(pipeline, body);

        Assert.Equal(e.EventId, settled);
        var entries = _bed.Ledger.Entries.OrderBy(x => x.Recipient).ToList();
        Assert.Equal([("duo", "delivered", 1), ("leerplicht", "parked", 1)], entries.Select(x => (x.Recipient, x.Outcome, x.Attempts)));
        Assert.All(entries, x => Assert.Equal(LedgerKinds.Decision, x.Kind));
        Assert.All(entries, x => Assert.NotEmpty(x.SubjectPseudonyms));
        Assert.Equal(["absence.from", "absence.hours", "absence.kind", "absence.to", "eventId", "subject.bsn"], entries[0].Disclosed.Where(p => !p.StartsWith("absence.remark", StringComparison.Ordinal)).Order());
        Assert.DoesNotContain(entries[0].Disclosed, p => p.StartsWith("subject.familyName", StringComparison.Ordinal));
        var row = Assert.Single(_bed.Store.Rows);
        Assert.Equal((KeyOf(e.EventId, "leerplicht", "a-lp"), ParkedState.Waiting), (row.Transfer.IdempotencyKey, row.State));
        // Each recipient its own reference for the event, in the key and in the record's eventId; the event's id in neither.
        var sent = Assert.Single(duo.Received);
        Assert.Equal(KeyOf(e.EventId, "duo", "a-duo"), sent.IdempotencyKey);
        Assert.NotEqual(sent.IdempotencyKey.Split(':')[0], row.Transfer.IdempotencyKey.Split(':')[0]);
        Assert.Equal(_bed.Keys.TransferReference(e.EventId, "duo"), JsonDocument.Parse(sent.Payload).RootElement.GetProperty("eventId").GetGuid());
        Assert.Equal(_bed.Keys.TransferReference(e.EventId, "leerplicht"), JsonDocument.Parse(row.Transfer.Payload).RootElement.GetProperty("eventId").GetGuid());
        Assert.DoesNotContain(e.EventId.ToString("D"), System.Text.Encoding.UTF8.GetString(sent.Payload.Span) + sent.IdempotencyKey, StringComparison.Ordinal);
        Assert.Equal(1, _bed.Counters.Snapshot().Count("duo", TransferOutcome.Delivered));
        Assert.Equal(1, _bed.Counters.Snapshot().Count("leerplicht", TransferOutcome.Parked));
        Assert.Equal(1, _bed.Subjects.Reads); // one subject read for the event, not one per agreement
    }

    [Fact]
    public async Task Process_DeniedTransfer_IsRecordedBlocked_NeverSent()
    {
        var (_, _, body) = TestAgreements.AbsenceReported();
        var duo = new ScriptedRecipient("duo", ScriptedRecipient.Answer(201));
        var pipeline = _bed.Gateway.Pipeline(new PolicyEngine([Agreement("a-duo", "duo", senders: ["99ZZ"])]), TestGateway.Adapters(duo));

        await ProcessAsync(pipeline, body);

        Assert.Equal(0, duo.Calls);
        var entry = Assert.Single(_bed.Ledger.Entries);
        Assert.Equal(("blocked", "sender-not-covered"), (entry.Outcome, string.Join(',', entry.Reasons)));
        Assert.Empty(entry.Disclosed);
    }

    [Fact]
    public async Task Scheduler_ParkedTransferDueLater_IsDeliveredWithTheSameKey_AndLeaves()
    {
        var (e, _, body) = TestAgreements.AbsenceReported();
        var duo = new ScriptedRecipient("duo", ScriptedRecipient.Answer(503), ScriptedRecipient.Answer(201));
        var engine = new PolicyEngine([Agreement("a-duo", "duo")]);
        var adapters = TestGateway.Adapters(duo);
        await ProcessAsync(_bed.Gateway.Pipeline(engine, adapters), body);
        var scheduler = _bed.Gateway.Scheduler(engine, adapters);

        Assert.Equal(0, await scheduler.RunOnceAsync(default)); // not due yet
        _bed.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await scheduler.RunOnceAsync(default));

        Assert.Equal([KeyOf(e.EventId, "duo", "a-duo"), KeyOf(e.EventId, "duo", "a-duo")], duo.Received.Select(t => t.IdempotencyKey));
        Assert.Empty(_bed.Store.Rows);
        Assert.Equal([(LedgerKinds.Decision, "parked"), (LedgerKinds.Outcome, "delivered")], _bed.Ledger.Entries.Select(x => (x.Kind, x.Outcome)));
    }

    [Fact]
    public async Task Scheduler_ATransferParkedUnderV1_SentAfterV2NarrowedTheAllowList_CarriesOnlyV2sFields_UnderV2InTheLedger()
    {
        var (e, _, body) = TestAgreements.AbsenceReported();
        var duo = new ScriptedRecipient("duo", ScriptedRecipient.Answer(503), ScriptedRecipient.Answer(201));
        var v1 = TestAgreements.Build(id: "a-duo", recipient: "duo", fields: ["eventId", "subject.bsn", "absence.from", "absence.to"]);
        var v2 = v1 with { Version = 2, Fields = FieldSelection.Parse(["eventId", "absence.from"]) };
        var adapters = TestGateway.Adapters(duo);
        await ProcessAsync(_bed.Gateway.Pipeline(new PolicyEngine([v1]), adapters), body);

        // The DPO narrows the agreement while the transfer waits; the gateway runs on v2 from then on.
        _bed.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await _bed.Gateway.Scheduler(new PolicyEngine([v2]), adapters).RunOnceAsync(default));

        static IEnumerable<string> Leaves(ReadOnlyMemory<byte> payload)
        {
            using var document = JsonDocument.Parse(payload);
            return TestAgreements.LeavesOf(document.RootElement);
        }

        var (first, second) = (duo.Received.First(), duo.Received.Last());
        Assert.Equal(["absence.from", "absence.to", "eventId", "subject.bsn"], Leaves(first.Payload).Order());
        Assert.Equal(["absence.from", "eventId"], Leaves(second.Payload).Order());
        Assert.Equal(first.IdempotencyKey, second.IdempotencyKey); // the same transfer, not a new one
        var outcome = _bed.Ledger.Entries.Single(x => x.Kind == LedgerKinds.Outcome);
        Assert.Equal(("delivered", 2), (outcome.Outcome, outcome.AgreementVersion));
        Assert.Equal(["absence.from", "eventId"], outcome.Disclosed);
        Assert.Equal(["absence.to", "subject.bsn"], outcome.Withheld);
        Assert.Equal(1, _bed.Ledger.Entries.Single(x => x.Kind == LedgerKinds.Decision).AgreementVersion);
        Assert.Equal(e.EventId, outcome.EventId);
    }

    [Fact]
    public async Task Process_AnAllowedTransferUnderATextNoDpoApproved_IsHeldAwaitingApproval_NotSentNorDropped_ItsHashInTheLedger()
    {
        var (e, _, body) = TestAgreements.AbsenceReported();
        var duo = new ScriptedRecipient("duo", ScriptedRecipient.Answer(201));
        var agreement = Agreement("a-duo", "duo") with { Hash = "sha256:v2" };
        _bed.Gateway.Approvals = new AgreementApprovals();
        _bed.Gateway.Approvals.Set(["sha256:v1"]); // an earlier text of it was approved, not this one
        var engine = new PolicyEngine([agreement]);
        var adapters = TestGateway.Adapters(duo);

        await ProcessAsync(_bed.Gateway.Pipeline(engine, adapters), body);
        _bed.Time.Advance(TimeSpan.FromHours(1));
        await _bed.Gateway.Scheduler(engine, adapters).RunOnceAsync(default);

        Assert.Equal(0, duo.Calls);
        var entry = Assert.Single(_bed.Ledger.Entries);
        Assert.Equal(("held", ReasonCodes.AwaitingApproval, "sha256:v2"), (entry.Outcome, string.Join(',', entry.Reasons), entry.AgreementHash));
        Assert.NotEmpty(entry.Disclosed); // what it will carry once approved, as decided
        var row = Assert.Single(_bed.Store.Rows);
        Assert.Equal((KeyOf(e.EventId, "duo", "a-duo"), ParkedState.AwaitingApproval), (row.Transfer.IdempotencyKey, row.State));

        // Approved: released (the watcher makes it due), it goes out under that text, and the outcome says so.
        _bed.Gateway.Approvals.Set(["sha256:v1", "sha256:v2"]);
        _bed.Store.Release(ParkedState.AwaitingApproval);
        await _bed.Gateway.Scheduler(engine, adapters).RunOnceAsync(default);

        Assert.Equal(1, duo.Calls);
        var outcome = _bed.Ledger.Entries.Single(x => x.Kind == LedgerKinds.Outcome);
        Assert.Equal(("delivered", "sha256:v2"), (outcome.Outcome, outcome.AgreementHash));
        Assert.Empty(_bed.Store.Rows);
    }

    [Fact]
    public async Task Scheduler_ATransferParkedBeforeReferences_GoesOutAsFirstTried_ANewOneWithItsReference()
    {
        var (e, _, body) = TestAgreements.AbsenceReported();
        var duo = new ScriptedRecipient("duo", ScriptedRecipient.Answer(503), ScriptedRecipient.Answer(201));
        var agreement = Agreement("a-duo", "duo");
        var engine = new PolicyEngine([agreement]);
        var adapters = TestGateway.Adapters(duo);
        await ProcessAsync(_bed.Gateway.Pipeline(engine, adapters), body);
        var parked = Assert.Single(_bed.Store.Rows);
        Assert.Equal(_bed.Keys.TransferReference(e.EventId, "duo"), JsonDocument.Parse(parked.Transfer.Payload).RootElement.GetProperty("eventId").GetGuid());

        // As a gateway before schema 16 parked it: the event's id in its key and its record.
        var legacyKey = $"{e.EventId:D}:a-duo";
        await _bed.Store.RemoveAsync(parked.Transfer.IdempotencyKey, CancellationToken.None);
        await _bed.Store.ParkAsync(parked with { Transfer = parked.Transfer with { IdempotencyKey = legacyKey, Payload = agreement.Fields.Project("AbsenceReported", body, reference: null) } }, CancellationToken.None);
        _bed.Time.Advance(TimeSpan.FromMinutes(2));
        await _bed.Gateway.Scheduler(engine, adapters).RunOnceAsync(default);

        var sent = duo.Received.Last();
        Assert.Equal(legacyKey, sent.IdempotencyKey); // the key its first attempt had, and the record with it
        Assert.Equal(e.EventId, JsonDocument.Parse(sent.Payload).RootElement.GetProperty("eventId").GetGuid());
        Assert.Empty(_bed.Store.Rows);
    }

    [Fact]
    public async Task AnApprovedAgreementPastItsReviewBy_HoldsItsTransfers_TheFirstAndAParkedOne_AsReviewOverdue()
    {
        // Approved, and due for review on the day after the bed's start: a transfer parked that day, another the next.
        var reviewBy = DateOnly.FromDateTime(ComponentBed.Start.UtcDateTime).AddDays(1);
        var agreement = Agreement("a-duo", "duo") with { ReviewBy = reviewBy };
        var duo = new ScriptedRecipient("duo", ScriptedRecipient.Answer(503), ScriptedRecipient.Answer(201));
        var engine = new PolicyEngine([agreement]);
        var adapters = TestGateway.Adapters(duo);
        var (first, _, firstBody) = TestAgreements.AbsenceReported(seed: 7);
        await ProcessAsync(_bed.Gateway.Pipeline(engine, adapters), firstBody); // the 503: parked, waiting

        _bed.Time.Advance(TimeSpan.FromDays(2)); // past reviewBy, in the legal time zone too
        var (second, _, secondBody) = TestAgreements.AbsenceReported(seed: 8);
        await ProcessAsync(_bed.Gateway.Pipeline(engine, adapters), secondBody);
        await _bed.Gateway.Scheduler(engine, adapters).RunOnceAsync(default);

        Assert.Equal(1, duo.Calls); // the first event's first attempt, before the day passed; nothing since
        var held = _bed.Ledger.Entries.Where(x => x.Outcome == "held").ToList();
        Assert.Equal([(second.EventId, ReasonCodes.ReviewOverdue)], held.Select(x => (x.EventId, string.Join(',', x.Reasons))));
        Assert.Equal(
            new[] { (KeyOf(first.EventId, "duo", "a-duo"), ParkedState.AwaitingApproval), (KeyOf(second.EventId, "duo", "a-duo"), ParkedState.AwaitingApproval) }.Order(),
            _bed.Store.Rows.Select(r => (r.Transfer.IdempotencyKey, r.State)).Order());
        Assert.All(_bed.Store.Rows, r => Assert.Contains($"due for review by {reviewBy:yyyy-MM-dd}", r.LastProblem, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Scheduler_ATransferWhoseAgreementNoLongerRoutesItsType_IsBlockedAsAgreementChanged_NotSent()
    {
        var (_, _, body) = TestAgreements.AbsenceReported();
        var duo = new ScriptedRecipient("duo", ScriptedRecipient.Answer(503), ScriptedRecipient.Answer(201));
        var v1 = Agreement("a-duo", "duo");
        var adapters = TestGateway.Adapters(duo);
        await ProcessAsync(_bed.Gateway.Pipeline(new PolicyEngine([v1]), adapters), body);

        _bed.Time.Advance(TimeSpan.FromMinutes(2));
        await _bed.Gateway.Scheduler(new PolicyEngine([v1 with { Version = 2, EventTypes = ["StudentEnrolled"] }]), adapters).RunOnceAsync(default);

        Assert.Equal(1, duo.Calls); // the first attempt only
        var outcome = _bed.Ledger.Entries.Single(x => x.Kind == LedgerKinds.Outcome);
        Assert.Equal(("blocked", ReasonCodes.AgreementChanged), (outcome.Outcome, string.Join(',', outcome.Reasons)));
        Assert.Empty(_bed.Store.Rows);
    }

    [Fact]
    public async Task Scheduler_RecipientStillFailing_GivesTheRestOfItsBatchBackUntried()
    {
        var generator = new Gateway.Events.SampleEventGenerator(5, _bed.Time);
        var duo = new ScriptedRecipient("duo", ScriptedRecipient.Answer(503));
        var engine = new PolicyEngine([Agreement("a-duo", "duo")]);
        var adapters = TestGateway.Adapters(duo);
        var pipeline = _bed.Gateway.Pipeline(engine, adapters);
        for (var i = 0; i < 3; i++)
        {
            using var document = Gateway.Intake.EventJson.ToDocument(generator.NextAbsenceReported());
            await ProcessAsync(pipeline, document.RootElement);
        }

        _bed.Time.Advance(TimeSpan.FromHours(2));
        await _bed.Gateway.Scheduler(engine, adapters).RunOnceAsync(default);

        Assert.Equal(4, duo.Calls); // three first attempts, then one for the batch
        Assert.All(_bed.Store.Rows, r => Assert.Null(r.LeaseId));
        Assert.Equal(1, _bed.Store.Rows.Count(r => r.Attempts == 2));
    }

    [Fact]
    public async Task Scheduler_AgreementExpiredWhileParked_IsBlockedNotSent()
    {
        var (_, _, body) = TestAgreements.AbsenceReported();
        var duo = new ScriptedRecipient("duo", ScriptedRecipient.Answer(503), ScriptedRecipient.Answer(201));
        var engine = new PolicyEngine([Agreement("a-duo", "duo", until: DateOnly.FromDateTime(ComponentBed.Start.UtcDateTime))]);
        var adapters = TestGateway.Adapters(duo);
        await ProcessAsync(_bed.Gateway.Pipeline(engine, adapters), body);

        _bed.Time.Advance(TimeSpan.FromDays(2));
        await _bed.Gateway.Scheduler(engine, adapters).RunOnceAsync(default);

        Assert.Equal(1, duo.Calls);
        Assert.Empty(_bed.Store.Rows);
        Assert.Equal(("blocked", "agreement-expired"), (_bed.Ledger.Entries[^1].Outcome, string.Join(',', _bed.Ledger.Entries[^1].Reasons)));
    }

    [Fact]
    public async Task Scheduler_ATransferWaitingForADisabledRecipient_IsLeftAlone_UntilTheRouteIsEnabled()
    {
        var (_, _, body) = TestAgreements.AbsenceReported();
        var duo = new ScriptedRecipient("duo", ScriptedRecipient.Answer(503), ScriptedRecipient.Answer(201));
        var engine = new PolicyEngine([Agreement("a-duo", "duo")]);
        var adapters = TestGateway.Adapters(duo);
        await ProcessAsync(_bed.Gateway.Pipeline(engine, adapters), body);
        await _bed.Routes.DisableAsync("duo", "by an operator", default); // the row still waits, and is due

        _bed.Time.Advance(TimeSpan.FromHours(2));
        var scheduler = _bed.Gateway.Scheduler(engine, adapters);
        Assert.Equal(0, await scheduler.RunOnceAsync(default));
        Assert.Equal((ParkedState.Waiting, 1), (Assert.Single(_bed.Store.Rows).State, duo.Calls));

        await _bed.Routes.EnableAsync("duo", default);
        Assert.Equal(1, await scheduler.RunOnceAsync(default));
        Assert.Empty(_bed.Store.Rows);
        Assert.Equal(2, duo.Calls);
    }

    [Fact]
    public async Task Process_A410_DisablesTheRoute_AndHoldsTheTransfer()
    {
        var (_, _, body) = TestAgreements.AbsenceReported();
        var duo = new ScriptedRecipient("duo", ScriptedRecipient.Answer(410));
        await ProcessAsync(_bed.Gateway.Pipeline(new PolicyEngine([Agreement("a-duo", "duo")]), TestGateway.Adapters(duo)), body);

        Assert.Equal(ParkedState.RecipientDisabled, Assert.Single(_bed.Store.Rows).State);
        Assert.Contains("duo", await _bed.Routes.DisabledAsync(default));
    }

    [Fact]
    public async Task Process_AnAdapterThatCannotBeMade_ParksItsTransferAlone_TheOthersGoOut()
    {
        var (_, _, body) = TestAgreements.AbsenceReported();
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        Adapters.RecipientRegistrations.AddRecipient(services, "duo", _ => throw new InvalidOperationException("its client cannot be built"));
        var leerplicht = new ScriptedRecipient("leerplicht", ScriptedRecipient.Answer(201));
        Adapters.RecipientRegistrations.AddRecipient(services, "leerplicht", _ => leerplicht);
        var provider = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);
        var adapters = new RecipientAdapters(provider, Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetServices<Adapters.RecipientRegistration>(provider));

        await ProcessAsync(_bed.Gateway.Pipeline(new PolicyEngine([Agreement("a-duo", "duo"), Agreement("a-lp", "leerplicht")]), adapters), body);

        Assert.Equal(1, leerplicht.Calls);
        var row = Assert.Single(_bed.Store.Rows);
        Assert.Equal(("duo", ParkedState.Waiting, "the adapter failed with InvalidOperationException"), (row.Recipient, row.State, row.LastProblem));
    }
}
