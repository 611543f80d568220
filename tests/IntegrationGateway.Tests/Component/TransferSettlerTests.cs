using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Storage;

namespace IntegrationGateway.Tests.Component;

/// <summary>Every way an attempt can end, first or later, and what the settler does with it.</summary>
[Trait("Tier", "Component")]
public class TransferSettlerTests
{
    readonly ComponentBed _bed = new();
    static readonly OutboundTransfer Transfer = new("e:a1", Guid.Parse("8d7f5c52-1a3e-4d0e-9f55-3c1f6b0a2e11"), "AbsenceReported", "a1", "{}"u8.ToArray());
    static readonly DecisionContext Context = ComponentBed.Context;
    static readonly TransferAttempt First = new(Transfer, "duo", Context);

    async Task<(Settlement Settlement, TransferAttempt Attempt)> LaterAsync(params DeliveryResult[] answers)
    {
        await _bed.Store.ParkAsync(new ParkedTransfer(Transfer, "duo", ParkedState.Waiting, 1, _bed.Time.GetUtcNow(), 503, "was failing") { Context = Context }, default);
        var claimed = Assert.Single(await _bed.Store.ClaimDueAsync(10, TimeSpan.FromMinutes(2), [], default));
        var attempt = TransferAttempt.Of(claimed);
        return (await _bed.Gateway.Settler(TestGateway.Adapters(new ScriptedRecipient("duo", answers))).DeliverAsync(attempt, default), attempt);
    }

    [Theory]
    [InlineData(201, TransferOutcome.Delivered, "delivered", null)]
    [InlineData(422, TransferOutcome.Failed, "rejected", ParkedState.Rejected)]
    [InlineData(410, TransferOutcome.Parked, "held", ParkedState.RecipientDisabled)]
    [InlineData(503, TransferOutcome.Parked, "parked", ParkedState.Waiting)]
    public async Task DeliverAsync_FirstAttempt_ParksByStatus_AndLeavesTheLedgerToTheDecision(int status, TransferOutcome outcome, string recorded, string? parkedState)
    {
        var settlement = await _bed.Gateway.Settler(TestGateway.Adapters(new ScriptedRecipient("duo", ScriptedRecipient.Answer(status)))).DeliverAsync(First, default);

        Assert.Equal((outcome, recorded), (settlement.Outcome, settlement.Recorded));
        Assert.Equal(parkedState, _bed.Store[Transfer.IdempotencyKey]?.State);
        Assert.Empty(_bed.Ledger.Entries); // the pipeline writes the decision with this outcome
        Assert.Equal(0, _bed.Counters.Snapshot().Count("duo", outcome)); // the pipeline counts the event's transfers together
        Assert.Equal(status == 410, (await _bed.Routes.DisabledAsync(default)).Contains("duo"));
        var entry = settlement.ApplyTo(new LedgerEntry { Kind = LedgerKinds.Decision, EventId = Transfer.EventId, EventType = "x", Controller = "test-school", Sender = "s", AgreementId = "a1", AgreementVersion = 3, Recipient = "duo", LegalBasis = "l", Outcome = "", SubjectPseudonyms = [] }, First);
        Assert.Equal((recorded, 1, status, Transfer.IdempotencyKey), (entry.Outcome, entry.Attempts, entry.StatusCode, entry.IdempotencyKey));
    }

    [Fact]
    public async Task DeliverAsync_Transient_WaitsTheParkedBackoff_OrTheRetryAfterWhenLonger()
    {
        var settlement = await _bed.Gateway.Settler(TestGateway.Adapters(new ScriptedRecipient("duo", ScriptedRecipient.Answer(429, TimeSpan.FromMinutes(10))))).DeliverAsync(First, default);

        Assert.True(settlement.RecipientFailing);
        Assert.Equal(_bed.Time.GetUtcNow() + TimeSpan.FromMinutes(10), _bed.Store[Transfer.IdempotencyKey]!.NextAttemptAt);
    }

    [Fact]
    public async Task DeliverAsync_Transient_ARetryAfterOfYears_IsHonouredOnlyUpToTheLongestParkedWait()
    {
        var settlement = await _bed.Gateway.Settler(TestGateway.Adapters(new ScriptedRecipient("duo", ScriptedRecipient.Answer(503, TimeSpan.FromDays(3650))))).DeliverAsync(First, default);

        Assert.True(settlement.RecipientFailing);
        Assert.Equal(_bed.Time.GetUtcNow() + new DeliveryOptions().ParkedRetryMaxDelay, _bed.Store[Transfer.IdempotencyKey]!.NextAttemptAt);
    }

    [Fact]
    public async Task DeliverAsync_FirstAttemptToADisabledRoute_IsHeldUnsent()
    {
        await _bed.Routes.DisableAsync("duo", "410", default);
        var recipient = new ScriptedRecipient("duo", ScriptedRecipient.Answer(201));

        var settlement = await _bed.Gateway.Settler(TestGateway.Adapters(recipient)).DeliverAsync(First, default);

        Assert.Equal("held", settlement.Recorded);
        Assert.Equal(0, recipient.Calls);
        Assert.Equal((ParkedState.RecipientDisabled, 0), (_bed.Store[Transfer.IdempotencyKey]!.State, _bed.Store[Transfer.IdempotencyKey]!.Attempts));
    }

    [Fact]
    public async Task DeliverAsync_RedeliveredFirstAttemptDelivered_RemovesTheRowAnEarlierTryParked()
    {
        await _bed.Store.ParkAsync(new ParkedTransfer(Transfer, "duo", ParkedState.Waiting, 1, _bed.Time.GetUtcNow(), 503, null), default);

        await _bed.Gateway.Settler(TestGateway.Adapters(new ScriptedRecipient("duo", ScriptedRecipient.Answer(201)))).DeliverAsync(First with { Redelivered = true }, default);

        Assert.Empty(_bed.Store.Rows);
    }

    [Theory]
    [InlineData(201, "delivered", null, TransferOutcome.Delivered)]
    [InlineData(422, "rejected", ParkedState.Rejected, TransferOutcome.Failed)]
    [InlineData(410, "held", ParkedState.RecipientDisabled, null)]
    [InlineData(503, "parked", ParkedState.Waiting, null)]
    public async Task DeliverAsync_LaterAttempt_WritesItsOutcomeToTheLedger_AndUpdatesItsRowUnderTheLease(int status, string recorded, string? parkedState, TransferOutcome? settledLater)
    {
        var (settlement, _) = await LaterAsync(ScriptedRecipient.Answer(status));

        var entry = Assert.Single(_bed.Ledger.Entries);
        Assert.Equal((LedgerKinds.Outcome, recorded, 2, "12AB", 3), (entry.Kind, entry.Outcome, entry.Attempts, entry.Sender, entry.AgreementVersion));
        Assert.Equal(recorded, settlement.Recorded);
        var row = _bed.Store[Transfer.IdempotencyKey];
        Assert.Equal(parkedState, row?.State);
        Assert.Null(row?.LeaseId); // given back with its news
        Assert.Equal(parkedState is null ? null : 2, row?.Attempts);
        // Settled later (delivered, or refused for good) counts per recipient; still parked does not, yet.
        Assert.Equal(settledLater is null ? 0 : 1, _bed.Counters.Snapshot().Count("duo", settlement.Outcome));
    }

    [Fact]
    public async Task DeliverAsync_LaterAttemptWhoseLeasePassedToAnotherClaim_DoesNotOverwriteTheNewerRow()
    {
        await _bed.Store.ParkAsync(new ParkedTransfer(Transfer, "duo", ParkedState.Waiting, 1, _bed.Time.GetUtcNow(), 503, null) { Context = Context }, default);
        var stale = TransferAttempt.Of(Assert.Single(await _bed.Store.ClaimDueAsync(10, TimeSpan.FromMinutes(2), [], default)));
        _bed.Time.Advance(TimeSpan.FromMinutes(3)); // the lease ran out; another gateway claims it
        Assert.Single(await _bed.Store.ClaimDueAsync(10, TimeSpan.FromMinutes(2), [], default));

        await _bed.Gateway.Settler(TestGateway.Adapters(new ScriptedRecipient("duo", ScriptedRecipient.Answer(422)))).DeliverAsync(stale, default);

        Assert.Equal(ParkedState.Waiting, _bed.Store[Transfer.IdempotencyKey]!.State);
    }

    [Fact]
    public async Task BlockAsync_RecordsBlockedWithTheReasons_AndRemovesTheRowUnsent()
    {
        await _bed.Store.ParkAsync(new ParkedTransfer(Transfer, "duo", ParkedState.Waiting, 1, _bed.Time.GetUtcNow(), 503, null) { Context = Context }, default);
        var attempt = TransferAttempt.Of(Assert.Single(await _bed.Store.ClaimDueAsync(10, TimeSpan.FromMinutes(2), [], default)));

        await _bed.Gateway.Settler(TestGateway.Adapters()).BlockAsync(attempt, ["agreement-expired"], default);

        var entry = Assert.Single(_bed.Ledger.Entries);
        Assert.Equal(("blocked", "agreement-expired", 1), (entry.Outcome, string.Join(',', entry.Reasons), entry.Attempts));
        Assert.Empty(_bed.Store.Rows);
        Assert.Equal(1, _bed.Counters.Snapshot().Count("duo", TransferOutcome.Blocked));
    }

    [Fact]
    public async Task RefuseAsync_KeepsTheTransferAsRejectedForAnOperator()
    {
        await _bed.Store.ParkAsync(new ParkedTransfer(Transfer, "gone", ParkedState.Waiting, 1, _bed.Time.GetUtcNow(), 503, null) { Context = Context }, default);
        var attempt = TransferAttempt.Of(Assert.Single(await _bed.Store.ClaimDueAsync(10, TimeSpan.FromMinutes(2), [], default)));

        await _bed.Gateway.Settler(TestGateway.Adapters()).RefuseAsync(attempt, "no adapter", default);

        Assert.Equal((ParkedState.Rejected, "no adapter"), (_bed.Store[Transfer.IdempotencyKey]!.State, _bed.Store[Transfer.IdempotencyKey]!.LastProblem));
        Assert.Equal("rejected", Assert.Single(_bed.Ledger.Entries).Outcome);
    }

    [Fact]
    public void Meaning_IsTheOneStatusToOutcomeMap()
    {
        Assert.Equal(
            [(TransferOutcome.Delivered, "delivered"), (TransferOutcome.Parked, "parked"), (TransferOutcome.Failed, "rejected"), (TransferOutcome.Parked, "held")],
            Enum.GetValues<DeliveryStatus>().Select(TransferSettler.Meaning));
    }
}
