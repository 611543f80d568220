using System.Diagnostics;
using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Storage;
using IntegrationGateway.Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>One attempt at a transfer: the first (from the pipeline) or a later one (a parked transfer, under a lease).</summary>
/// <param name="Transfer">What goes out, with its idempotency key.</param>
/// <param name="Recipient">Whose adapter sends it.</param>
/// <param name="Context">The decision it was made under, as the ledger repeats it.</param>
/// <param name="AttemptsBefore">Delivery rounds before this one (0 on the first).</param>
/// <param name="Lease">The scheduler's claim on the parked row; null on the first attempt.</param>
/// <param name="Redelivered">The broker delivered the event before: a first attempt may find a parked row of its own.</param>
public sealed record TransferAttempt(OutboundTransfer Transfer, string Recipient, DecisionContext Context, int AttemptsBefore = 0, Guid? Lease = null, bool Redelivered = false)
{
    public bool IsLater => Lease is not null;

    /// <summary>
    /// A first attempt's: completes when its decision is committed to the ledger. An attempt settled after the message
    /// (one still in flight when it was parked) writes its outcome only then, so the ledger has the decision first.
    /// </summary>
    public Task? Decided { get; init; }

    public static TransferAttempt Of(ParkedTransfer parked) => new(parked.Transfer, parked.Recipient, parked.Context, parked.Attempts, parked.LeaseId);

    /// <summary>When it was projected again under a changed agreement: the fields it carries now, for its outcome's ledger entry.</summary>
    public IReadOnlyList<string> Disclosed { get; init; } = [];

    /// <summary>With <see cref="Disclosed"/>: the fields of the earlier payload it no longer carries.</summary>
    public IReadOnlyList<string> Withheld { get; init; } = [];

    /// <summary>
    /// The same transfer (same key) under <paramref name="agreement"/> as it is now: its version, ground and hash, and,
    /// when the payload projected under it differs (<see cref="Policy.Redecision.Narrowed"/>), that payload.
    /// </summary>
    public TransferAttempt Under(Policy.Agreement agreement, Policy.Redecision redecided) =>
        this with
        {
            Transfer = (redecided.Narrowed is { } narrowed ? Transfer with { Payload = narrowed } : Transfer) with { AgreementHash = agreement.Hash },
            Context = Context with { AgreementVersion = agreement.Version, LegalBasis = agreement.LegalBasis.Cited, AgreementHash = agreement.Hash },
            Disclosed = redecided.Disclosed,
            Withheld = redecided.Withheld,
        };
}

/// <summary>How an attempt ended, as the ledger records it and the scheduler acts on it.</summary>
/// <param name="Outcome">What the counters and the metrics call it.</param>
/// <param name="Recorded">The ledger's word: <c>delivered</c>, <c>rejected</c>, <c>held</c>, <c>parked</c>, <c>blocked</c>.</param>
/// <param name="Result">The adapter's result; null when nothing was sent.</param>
/// <param name="Took">The attempt's duration; null when nothing was sent.</param>
/// <param name="RecipientFailing">The recipient fails or is gone: the rest of its batch is not worth trying now.</param>
/// <param name="NextAttemptAt">When it is due again, when it stays parked.</param>
public sealed record Settlement(TransferOutcome Outcome, string Recorded, DeliveryResult? Result, TimeSpan? Took, bool RecipientFailing, DateTimeOffset NextAttemptAt)
{
    /// <summary>This attempt's facts on a ledger entry: outcome, hash of the bytes sent, attempts, status, receipt, duration.</summary>
    public LedgerEntry ApplyTo(LedgerEntry entry, TransferAttempt attempt) => entry with
    {
        Outcome = Recorded,
        PayloadSha256 = Result?.SentSha256,
        IdempotencyKey = attempt.Transfer.IdempotencyKey,
        Attempts = attempt.AttemptsBefore + (Result is null ? 0 : 1),
        StatusCode = Result?.StatusCode,
        Receipt = Result?.Receipt,
        DurationMs = Took is { } took ? LedgerEntry.Milliseconds(took) : null,
        TraceId = Activity.Current?.TraceId.ToString(),
    };
}

/// <summary>
/// The one home of "what does a delivery result mean": it makes the attempt (one span, one adapter call, timed and
/// counted), then parks, updates, removes, or disables the recipient's route, and writes a later attempt's outcome to
/// the ledger before its row changes, so the evidence never lags the store. The pipeline (first attempts, whose
/// outcomes go into its decision entries) and the scheduler (parked transfers) both settle through it.
/// </summary>
public sealed class TransferSettler(
    RecipientAdapters adapters,
    ITransferStore store,
    IRecipientRoutes routes,
    ITransferLedger ledger,
    TransferCounters counters,
    TimeProvider time,
    IOptions<DeliveryOptions> options,
    DeliveryLog log)
{
    /// <summary>The one status→outcome map: what the counters count and the ledger records for each adapter status.</summary>
    public static (TransferOutcome Outcome, string Recorded) Meaning(DeliveryStatus status) => status switch
    {
        DeliveryStatus.Delivered => (TransferOutcome.Delivered, "delivered"),
        DeliveryStatus.Rejected => (TransferOutcome.Failed, "rejected"),
        DeliveryStatus.Gone => (TransferOutcome.Parked, "held"),
        _ => (TransferOutcome.Parked, "parked"),
    };

    static readonly Dictionary<string, TransferOutcome> Counted = Enum.GetValues<DeliveryStatus>().Select(Meaning)
        .Append((Outcome: TransferOutcome.Blocked, Recorded: "blocked")).DistinctBy(m => m.Recorded).ToDictionary(m => m.Recorded, m => m.Outcome, StringComparer.Ordinal);

    /// <summary>The other way: what the counters count for an outcome the ledger records (a decision's <c>blocked</c> too).</summary>
    public static TransferOutcome OutcomeOf(string recorded) => Counted.GetValueOrDefault(recorded, TransferOutcome.Parked);

    readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _finishing = new();

    /// <summary>Whether a recipient has an adapter to deliver with.</summary>
    public bool Delivers(string recipient) => adapters.Recipients.Contains(recipient);

    /// <summary>One delivery through the recipient's adapter, settled. A first attempt to a disabled route is held, not sent.</summary>
    public async Task<Settlement> DeliverAsync(TransferAttempt attempt, CancellationToken cancellationToken)
    {
        var transfer = attempt.Transfer;
        // A later attempt gets a trace of its own (the event's closed when its message was acknowledged); the ledger links both.
        using var span = GatewayTelemetry.Source.StartActivity(
            (attempt.IsLater ? "deliver parked " : "deliver ") + attempt.Recipient, ActivityKind.Internal, default(ActivityContext), [
                new(GatewayTelemetry.Tags.Agreement, transfer.AgreementId), new(GatewayTelemetry.Tags.Recipient, attempt.Recipient),
                new(GatewayTelemetry.Tags.EventId, transfer.EventId.ToString("D"))]);
        if (!attempt.IsLater && (await routes.DisabledAsync(cancellationToken).ConfigureAwait(false)).Contains(attempt.Recipient))
        {
            await store.ParkAsync(Parked(attempt, ParkedState.RecipientDisabled, 0, null, "the recipient's route is disabled", time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            span?.SetTag(GatewayTelemetry.Tags.Outcome, "held");
            return new Settlement(TransferOutcome.Parked, "held", null, null, RecipientFailing: true, time.GetUtcNow());
        }

        var bulkhead = adapters.Bulkhead;
        var probe = false;
        if (!attempt.IsLater && bulkhead.Impaired(attempt.Recipient) && !(probe = bulkhead.TryProbe(attempt.Recipient)))
        {
            // Failing or slow, and another transfer is finding out whether it still is: this one waits for the scheduler.
            span?.SetTag(GatewayTelemetry.Tags.Outcome, "parked");
            return await ParkUntriedAsync(attempt, cancellationToken).ConfigureAwait(false);
        }

        var started = time.GetTimestamp();
        var delivery = adapters.DeliverOrFailAsync(attempt.Recipient, transfer, cancellationToken);
        var wait = options.Value.FirstAttemptWait;
        if (!attempt.IsLater && !delivery.IsCompleted
            && await Task.WhenAny(delivery, Task.Delay(wait, time, cancellationToken)).ConfigureAwait(false) != delivery)
        {
            bulkhead.OutlastedTheWait(attempt.Recipient);
            span?.SetTag(GatewayTelemetry.Tags.Outcome, "parked");
            return await ParkInFlightAsync(attempt, delivery, started, probe, cancellationToken).ConfigureAwait(false);
        }

        DeliveryResult result;
        try
        {
            result = await delivery.ConfigureAwait(false);
        }
        finally
        {
            if (probe)
            {
                bulkhead.ProbeDone(attempt.Recipient);
            }
        }

        var took = time.GetElapsedTime(started);
        bulkhead.Answered(attempt.Recipient, result.Status, took < wait);
        var settlement = await SettleAsync(attempt, result, took, cancellationToken).ConfigureAwait(false);
        counters.Delivered(attempt.Recipient, settlement.Outcome, took);
        span?.SetTag(GatewayTelemetry.Tags.Outcome, settlement.Recorded).SetTag(GatewayTelemetry.Tags.StatusCode, result.StatusCode);
        if (settlement.Outcome is TransferOutcome.Failed or TransferOutcome.Parked)
        {
            span?.SetStatus(ActivityStatusCode.Error, settlement.Recorded);
        }

        return settlement;
    }

    /// <summary>A first attempt to a recipient that is failing or slow: parked untried, due at the first backoff.</summary>
    async Task<Settlement> ParkUntriedAsync(TransferAttempt attempt, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var next = now + options.Value.ParkedBackoff(1, null);
        const string problem = "not tried: the recipient is failing or slow";
        await store.ParkAsync(Parked(attempt, ParkedState.Waiting, 0, null, problem, next), cancellationToken).ConfigureAwait(false);
        log.Parking(attempt.Transfer.EventId, attempt.Transfer.AgreementId, attempt.Recipient, problem, (next - now).TotalSeconds, 0);
        return new Settlement(TransferOutcome.Parked, "parked", null, null, RecipientFailing: true, next);
    }

    /// <summary>
    /// A first attempt still going after <see cref="DeliveryOptions.FirstAttemptWait"/>: parked under a lease of this
    /// gateway (so no scheduler takes it while it is in flight, and another gateway does once this one is gone), and
    /// settled as a later attempt when it ends, after its decision is in the ledger (<see cref="TransferAttempt.Decided"/>).
    /// </summary>
    async Task<Settlement> ParkInFlightAsync(TransferAttempt attempt, Task<DeliveryResult> delivery, long started, bool probe, CancellationToken cancellationToken)
    {
        var lease = Guid.NewGuid();
        var now = time.GetUtcNow();
        var until = now + options.Value.SchedulerLease;
        try
        {
            await store.ParkAsync(Parked(attempt, ParkedState.Waiting, 0, null, "the first attempt is still in flight", until) with { LeaseId = lease }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Not parked: this message is not acknowledged, and is worked on again; the attempt ends on its own.
            _ = delivery.ContinueWith(_ => { if (probe) adapters.Bulkhead.ProbeDone(attempt.Recipient); }, TaskScheduler.Default);
            throw;
        }

        log.Parking(attempt.Transfer.EventId, attempt.Transfer.AgreementId, attempt.Recipient, "still in flight", (until - now).TotalSeconds, 1);
        var finishing = FinishAsync(attempt with { Lease = lease }, delivery, started, probe);
        _finishing.TryAdd(finishing, 0);
        _ = finishing.ContinueWith(done => _finishing.TryRemove(done, out _), TaskScheduler.Default);
        return new Settlement(TransferOutcome.Parked, "parked", null, null, RecipientFailing: true, until);
    }

    /// <summary>
    /// At shutdown (the scheduler's stop, before this gateway gives its leases back): waits up to <paramref name="bound"/>
    /// for the attempts still being finished, so one that was answered is settled, not sent again by another gateway.
    /// </summary>
    public async Task DrainAsync(TimeSpan bound)
    {
        try
        {
            await Task.WhenAll(_finishing.Keys).WaitAsync(bound).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // What is left keeps its lease, which this gateway now gives back: tried again, same idempotency key.
        }
    }

    /// <summary>
    /// Settles an attempt that outlasted the wait once its answer is in. Settled with no cancellation once the answer
    /// is known (bounded by the database's command timeout), so an answer is never half recorded: the ledger's outcome
    /// committed but the row left to be sent again.
    /// </summary>
    async Task FinishAsync(TransferAttempt attempt, Task<DeliveryResult> delivery, long started, bool probe)
    {
        try
        {
            var result = await delivery.ConfigureAwait(false);
            var took = time.GetElapsedTime(started);
            adapters.Bulkhead.Answered(attempt.Recipient, result.Status, took < options.Value.FirstAttemptWait);
            if (probe)
            {
                adapters.Bulkhead.ProbeDone(attempt.Recipient);
                probe = false;
            }

            if (attempt.Decided is { } decided)
            {
                await decided.ConfigureAwait(false);
            }

            var settlement = await SettleAsync(attempt, result, took, CancellationToken.None).ConfigureAwait(false);
            counters.Delivered(attempt.Recipient, settlement.Outcome, took);
        }
        catch (Exception ex)
        {
            // Shutdown, the database away, or the decision not committed: the row stays under this gateway's lease, which
            // it gives back when it stops, or which another gateway takes over once it is gone; tried again then.
            log.UnsettledInFlight(attempt.Transfer.EventId, attempt.Recipient, ex.GetType().Name);
        }
        finally
        {
            if (probe)
            {
                adapters.Bulkhead.ProbeDone(attempt.Recipient);
            }
        }
    }

    /// <summary>A parked transfer decided again and denied: recorded as blocked, and it leaves the store unsent.</summary>
    public async Task BlockAsync(TransferAttempt attempt, IReadOnlyList<string> reasons, CancellationToken cancellationToken)
    {
        var settlement = new Settlement(TransferOutcome.Blocked, "blocked", null, null, RecipientFailing: false, time.GetUtcNow());
        await ledger.AppendAsync([settlement.ApplyTo(OutcomeEntry(attempt), attempt) with { Reasons = reasons }], cancellationToken).ConfigureAwait(false);
        await store.RemoveAsync(attempt.Transfer.IdempotencyKey, cancellationToken, attempt.Lease).ConfigureAwait(false);
        counters.SettledLater(attempt.Recipient, TransferOutcome.Blocked);
        log.BlockedLater(attempt.Transfer.EventId, attempt.Transfer.AgreementId, attempt.Recipient, string.Join(',', reasons));
    }

    /// <summary>
    /// Held, not sent, because the agreement's text is not approved, or its review is overdue (<paramref name="reason"/>,
    /// <see cref="Policy.AgreementApprovals.HoldReason"/>): a first attempt parked as awaiting approval (its decision
    /// records it held), or a later one's row put back so, untried and no attempt counted (nothing happened that the
    /// ledger does not say already), until an approval releases its agreement's held transfers.
    /// </summary>
    public async Task<Settlement> HoldForApprovalAsync(TransferAttempt attempt, Policy.Agreement agreement, string reason, CancellationToken cancellationToken)
    {
        const string state = ParkedState.AwaitingApproval;
        var why = reason == Policy.ReasonCodes.ReviewOverdue
            ? $"agreement {agreement.Id} version {agreement.Version} was due for review by {agreement.ReviewBy:yyyy-MM-dd}: held until a reviewed text is approved"
            : $"agreement {agreement.Id} version {agreement.Version} ({agreement.Hash}) awaits approval";
        var now = time.GetUtcNow();
        await (attempt.IsLater
            ? store.HoldAsync(attempt.Transfer.IdempotencyKey, state, why, attempt.Lease!.Value, cancellationToken)
            : store.ParkAsync(Parked(attempt, state, 0, null, why, now), cancellationToken)).ConfigureAwait(false);
        return new Settlement(TransferOutcome.Parked, "held", null, null, RecipientFailing: false, now);
    }

    /// <summary>A parked transfer that cannot be sent at all (its recipient has no adapter any more): kept as rejected for an operator.</summary>
    public Task<Settlement> RefuseAsync(TransferAttempt attempt, string problem, CancellationToken cancellationToken) =>
        SettleAsync(attempt, new DeliveryResult(DeliveryStatus.Rejected, null, null, problem), took: null, cancellationToken);

    async Task<Settlement> SettleAsync(TransferAttempt attempt, DeliveryResult result, TimeSpan? took, CancellationToken cancellationToken)
    {
        var transfer = attempt.Transfer;
        var (outcome, recorded) = Meaning(result.Status);
        var now = time.GetUtcNow();
        var next = result.Status == DeliveryStatus.Transient ? now + options.Value.ParkedBackoff(attempt.AttemptsBefore + 1, result.RetryAfter) : now;
        var settlement = new Settlement(outcome, recorded, result, took, RecipientFailing: result.Status is DeliveryStatus.Transient or DeliveryStatus.Gone, next);
        if (attempt.IsLater)
        {
            // Every later attempt is in the ledger, the failed ones too, before its row changes: operators see each try.
            await ledger.AppendAsync([settlement.ApplyTo(OutcomeEntry(attempt), attempt)], cancellationToken).ConfigureAwait(false);
        }

        switch (result.Status)
        {
            case DeliveryStatus.Delivered:
                if (attempt.IsLater || attempt.Redelivered)
                {
                    // A later attempt, or a redelivered message whose earlier delivery may have parked it: no further try.
                    await store.RemoveAsync(transfer.IdempotencyKey, cancellationToken, attempt.Lease).ConfigureAwait(false);
                }

                log.Delivered(transfer.EventId, transfer.AgreementId, attempt.Recipient, result.StatusCode, attempt.AttemptsBefore + 1);
                break;
            case DeliveryStatus.Rejected:
                log.Rejected(transfer.EventId, transfer.AgreementId, attempt.Recipient, result.Problem);
                await KeepAsync(attempt, ParkedState.Rejected, result, now, cancellationToken).ConfigureAwait(false);
                break;
            case DeliveryStatus.Gone:
                await routes.DisableAsync(attempt.Recipient, result.Problem ?? "410 Gone", cancellationToken).ConfigureAwait(false);
                await KeepAsync(attempt, ParkedState.RecipientDisabled, result, now, cancellationToken).ConfigureAwait(false);
                break;
            default:
                log.Parking(transfer.EventId, transfer.AgreementId, attempt.Recipient, result.Problem, (next - now).TotalSeconds, attempt.AttemptsBefore + 1);
                await KeepAsync(attempt, ParkedState.Waiting, result, next, cancellationToken).ConfigureAwait(false);
                break;
        }

        if (attempt.IsLater && outcome is TransferOutcome.Delivered or TransferOutcome.Failed)
        {
            counters.SettledLater(attempt.Recipient, outcome);
        }

        return settlement;
    }

    /// <summary>Parks a first attempt (rounds count from 1); updates a later one's row under its lease.</summary>
    Task KeepAsync(TransferAttempt attempt, string state, DeliveryResult result, DateTimeOffset next, CancellationToken cancellationToken) =>
        attempt.Lease is { } lease
            ? store.UpdateAsync(attempt.Transfer.IdempotencyKey, state, next, result.StatusCode, result.Problem, lease, cancellationToken)
            : store.ParkAsync(Parked(attempt, state, 1, result.StatusCode, result.Problem, next), cancellationToken);

    ParkedTransfer Parked(TransferAttempt attempt, string state, int rounds, int? status, string? problem, DateTimeOffset next) =>
        new(attempt.Transfer, attempt.Recipient, state, rounds, next, status, problem) { Context = attempt.Context };

    /// <summary>The ledger's line for a later outcome: the decision's context; <see cref="Settlement.ApplyTo"/> adds this attempt's facts.</summary>
    static LedgerEntry OutcomeEntry(TransferAttempt attempt) => new()
    {
        Kind = LedgerKinds.Outcome,
        EventId = attempt.Transfer.EventId,
        EventType = attempt.Transfer.EventType,
        Controller = attempt.Context.Controller,
        Sender = attempt.Context.Sender,
        AgreementId = attempt.Transfer.AgreementId,
        AgreementVersion = attempt.Context.AgreementVersion,
        AgreementHash = attempt.Context.AgreementHash,
        Recipient = attempt.Recipient,
        LegalBasis = attempt.Context.LegalBasis,
        Outcome = "",
        Reasons = [],
        Disclosed = attempt.Disclosed,
        Withheld = attempt.Withheld,
        SubjectPseudonyms = attempt.Context.SubjectPseudonyms,
    };
}
