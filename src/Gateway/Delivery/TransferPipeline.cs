using System.Diagnostics;
using System.Text.Json;
using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Telemetry;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Subjects;
using IntegrationGateway.Gateway.Storage;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>
/// One event through the gateway: policy decision per routed agreement, projection, delivery by the recipient's
/// adapter (whose client retries in process, bounded, and fails fast while the recipient's circuit is open).
/// Every transfer ends settled: delivered, blocked, or parked durably in PostgreSQL (transient failure, refusal,
/// or a disabled route) for the scheduler or an operator. Knows nothing of RabbitMQ; the consumer acknowledges the
/// message when this returns, so a failing recipient never holds the message, nor the others' deliveries.
/// </summary>
public sealed partial class TransferPipeline(
    PolicyEngine engine,
    RecipientAdapters adapters,
    ParkedTransfers parked,
    RecipientRoutes routes,
    LedgerWriter ledger,
    LedgerKeys ledgerKeys,
    SubjectStates subjects,
    SubjectNotices notices,
    TransferCounters counters,
    TimeProvider time,
    IOptions<DeliveryOptions> options,
    ILogger<TransferPipeline> logger)
{
    /// <summary>Decides, delivers or parks every transfer of one event; returns when all are settled.</summary>
    /// <param name="eventId">The event's id.</param>
    /// <param name="facts">Type, jurisdiction and sender, for routing.</param>
    /// <param name="body">The event as published (validated).</param>
    /// <param name="cancellationToken">Cancelled at shutdown: then nothing is counted, and the message goes back.</param>
    /// <param name="redelivered">The broker delivered the message before: a transfer parked then may be delivered now.</param>
    public async Task ProcessAsync(Guid eventId, EventFacts facts, JsonElement body, CancellationToken cancellationToken, bool redelivered = false)
    {
        // One span for the decision and the deliveries under it; each decision an event on it (agreement, recipient,
        // allow or deny and the reasons), each delivery a child span (with the HTTP call under it).
        using var policy = GatewayTelemetry.Source.StartActivity("policy " + facts.EventType);
        var decisions = await DecideAsync(facts, body, cancellationToken).ConfigureAwait(false);
        if (policy is not null)
        {
            policy.SetTag(GatewayTelemetry.Tags.EventType, facts.EventType).SetTag(GatewayTelemetry.Tags.Decisions, decisions.Count);
            foreach (var decision in decisions)
            {
                policy.AddEvent(new ActivityEvent("decision", tags: new ActivityTagsCollection
                {
                    [GatewayTelemetry.Tags.Agreement] = decision.Agreement.Id,
                    [GatewayTelemetry.Tags.Recipient] = decision.Agreement.Recipient,
                    [GatewayTelemetry.Tags.Outcome] = decision.Allowed ? "allow" : "deny",
                    [GatewayTelemetry.Tags.Reasons] = string.Join(',', decision.Reasons),
                }));
            }
        }

        if (decisions.Count == 0)
        {
            if (EventKinds.Of(facts.EventType).IsNotice())
            {
                LogNoNoticeOwed(eventId, facts.EventType);
            }
            else
            {
                LogUnrouted(eventId, facts.EventType, facts.Jurisdiction);
            }

            counters.Settled(eventId, []);
            return;
        }

        var pseudonyms = ledgerKeys.Pseudonyms(body);

        // The recipients side by side: one that is slow or failing does not delay the others' transfers.
        var settled = await Task.WhenAll(decisions.Select(async decision =>
        {
            var agreement = decision.Agreement;
            var context = new DecisionContext(facts.InstitutionId, agreement.Version, LegalBasisOf(agreement), pseudonyms);
            if (!decision.Allowed)
            {
                LogDenied(eventId, agreement.Id, agreement.Recipient, string.Join(',', decision.Reasons));
                return (Counted: (agreement.Recipient, TransferOutcome.Blocked), Entry: Entry(decision, context, body, facts, eventId, "blocked", null, null));
            }

            var transfer = new OutboundTransfer(
                OutboundTransfer.KeyFor(eventId, agreement.Id), eventId, facts.EventType, agreement.Id, decision.Payload!);
            using var delivery = GatewayTelemetry.Source.StartActivity("deliver " + agreement.Recipient, ActivityKind.Internal, default(ActivityContext), [
                new(GatewayTelemetry.Tags.Agreement, agreement.Id), new(GatewayTelemetry.Tags.Recipient, agreement.Recipient)]);
            var started = time.GetTimestamp();
            var (outcome, recorded, result) = await DeliverAsync(transfer, agreement.Recipient, context, redelivered, cancellationToken).ConfigureAwait(false);
            var took = time.GetElapsedTime(started);
            counters.Delivered(agreement.Recipient, outcome, took);
            delivery?.SetTag(GatewayTelemetry.Tags.Outcome, recorded).SetTag(GatewayTelemetry.Tags.StatusCode, result?.StatusCode);
            if (outcome is TransferOutcome.Failed or TransferOutcome.Parked)
            {
                delivery?.SetStatus(ActivityStatusCode.Error, recorded);
            }

            return (Counted: (agreement.Recipient, outcome), Entry: Entry(decision, context, body, facts, eventId, recorded, transfer.IdempotencyKey, result) with
            {
                DurationMs = result is null ? null : LedgerEntry.Milliseconds(took),
            });
        })).ConfigureAwait(false);

        // The decisions and their outcomes are committed to the ledger before the message is acknowledged.
        await ledger.AppendAsync([.. settled.Select(s => s.Entry)], cancellationToken).ConfigureAwait(false);

        // Counted only once the whole event is settled, so an event handed back at shutdown is not counted twice.
        counters.Settled(eventId, [.. settled.Select(s => s.Counted)]);
    }

    /// <summary>
    /// A notice (rectification, erasure) goes to the recipients that had the data; any other event to the recipients
    /// whose agreements route it, decided on what the subject has said (unknown means no consent given).
    /// </summary>
    async Task<IReadOnlyList<PolicyDecision>> DecideAsync(EventFacts facts, JsonElement body, CancellationToken cancellationToken)
    {
        if (EventKinds.Of(facts.EventType).IsNotice())
        {
            return await notices.DecideAsync(facts, body, time.GetUtcNow(), adapters.TakesErasureNotices, cancellationToken).ConfigureAwait(false);
        }

        var subject = await subjects.ForAsync(body, cancellationToken).ConfigureAwait(false);
        return engine.Evaluate(facts, body, subject, time.GetUtcNow());
    }

    /// <summary>At most this many paths the contract does not declare are named in one ledger entry; the rest are counted.</summary>
    internal const int MaxUndeclaredPaths = 32;

    /// <summary>
    /// The paths as the ledger records them: the contract's own, then those a sender added that the contract does not
    /// declare (already masked by <see cref="FieldSelection.Classify"/>), so a DPO sees what a sloppy export tried to
    /// send; past <see cref="MaxUndeclaredPaths"/> of them, a count.
    /// </summary>
    internal static IReadOnlyList<string> LedgerPaths(string eventType, IEnumerable<string> paths)
    {
        var known = new List<string>();
        var undeclared = new List<string>();
        var more = 0;
        foreach (var path in paths)
        {
            if (EventCatalogue.Default.Field(eventType, path) is not null)
            {
                known.Add(path);
            }
            else if (undeclared.Count < MaxUndeclaredPaths)
            {
                undeclared.Add(path);
            }
            else
            {
                more++;
            }
        }

        known.AddRange(undeclared);
        if (more > 0)
        {
            known.Add($"({more} more member(s) the contract does not declare)");
        }

        return known;
    }

    static string LegalBasisOf(Agreement agreement) =>
        $"GDPR {agreement.LegalBasis.Gdpr}; {agreement.LegalBasis.Instrument}" + (agreement.LegalBasis.Art9Ground is { } art9 ? $"; art. 9 {art9}" : "");

    /// <summary>The ledger's line for one decision and its first outcome: field names, hashes and codes, never a value.</summary>
    static LedgerEntry Entry(PolicyDecision decision, DecisionContext context, JsonElement body, EventFacts facts, Guid eventId, string outcome, string? idempotencyKey, DeliveryResult? result)
    {
        var disclosed = new SortedSet<string>(StringComparer.Ordinal);
        var withheld = new SortedSet<string>(StringComparer.Ordinal);
        decision.Classify(facts.EventType, body, disclosed, withheld);
        return new LedgerEntry
        {
            Kind = LedgerKinds.Decision,
            EventId = eventId,
            EventType = facts.EventType,
            Sender = context.Sender,
            AgreementId = decision.Agreement.Id,
            AgreementVersion = context.AgreementVersion,
            Recipient = decision.Agreement.Recipient,
            LegalBasis = context.LegalBasis,
            Outcome = outcome,
            Reasons = decision.Reasons,
            Disclosed = LedgerPaths(facts.EventType, disclosed),
            Withheld = LedgerPaths(facts.EventType, withheld),
            PayloadSha256 = result?.SentSha256,
            IdempotencyKey = idempotencyKey,
            Attempts = result is null ? 0 : 1,
            StatusCode = result?.StatusCode,
            Receipt = result?.Receipt,
            TraceId = Activity.Current?.TraceId.ToString(),
            SubjectPseudonyms = context.SubjectPseudonyms,
        };
    }

    async Task<(TransferOutcome Outcome, string Recorded, DeliveryResult? Result)> DeliverAsync(
        OutboundTransfer transfer, string recipient, DecisionContext context, bool redelivered, CancellationToken cancellationToken)
    {
        if ((await routes.DisabledAsync(cancellationToken).ConfigureAwait(false)).Contains(recipient))
        {
            await ParkAsync(transfer, recipient, context, ParkedState.RecipientDisabled, 0, null, "the recipient's route is disabled", null, cancellationToken).ConfigureAwait(false);
            return (TransferOutcome.Parked, "held", null);
        }

        var result = await adapters[recipient].DeliverOrFailAsync(transfer, cancellationToken).ConfigureAwait(false);

        // Parked rows count delivery rounds (each round is up to Delivery:Attempts tries in process).
        const int rounds = 1;
        switch (result.Status)
        {
            case DeliveryStatus.Delivered:
                LogDelivered(transfer.EventId, transfer.AgreementId, recipient, result.StatusCode);
                if (redelivered)
                {
                    // An earlier delivery of this message may have parked it; it needs no further try.
                    await parked.RemoveAsync(transfer.IdempotencyKey, cancellationToken).ConfigureAwait(false);
                }

                return (TransferOutcome.Delivered, "delivered", result);
            case DeliveryStatus.Rejected:
                LogRejected(transfer.EventId, transfer.AgreementId, recipient, result.Problem);
                await ParkAsync(transfer, recipient, context, ParkedState.Rejected, rounds, result.StatusCode, result.Problem, null, cancellationToken).ConfigureAwait(false);
                return (TransferOutcome.Failed, "rejected", result);
            case DeliveryStatus.Gone:
                await routes.DisableAsync(recipient, result.Problem ?? "410 Gone", cancellationToken).ConfigureAwait(false);
                await ParkAsync(transfer, recipient, context, ParkedState.RecipientDisabled, rounds, result.StatusCode, result.Problem, null, cancellationToken).ConfigureAwait(false);
                return (TransferOutcome.Parked, "held", result);
            default:
                var wait = options.Value.ParkedBackoff(1, result.RetryAfter);
                LogParked(transfer.EventId, transfer.AgreementId, recipient, result.Problem, wait.TotalSeconds);
                await ParkAsync(transfer, recipient, context, ParkedState.Waiting, rounds, result.StatusCode, result.Problem, wait, cancellationToken).ConfigureAwait(false);
                return (TransferOutcome.Parked, "parked", result);
        }
    }

    Task ParkAsync(OutboundTransfer transfer, string recipient, DecisionContext context, string state, int attempts, int? status, string? problem, TimeSpan? wait, CancellationToken cancellationToken) =>
        parked.ParkAsync(new ParkedTransfer(transfer, recipient, state, attempts, time.GetUtcNow() + (wait ?? TimeSpan.Zero), status, problem) { Context = context }, cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} ({EventType}, {Jurisdiction}): no agreement routes it; nothing transferred")]
    partial void LogUnrouted(Guid eventId, string eventType, string jurisdiction);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} ({EventType}): no earlier recipient of the subject's data is owed a notice")]
    partial void LogNoNoticeOwed(Guid eventId, string eventType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId}: agreement {AgreementId} denies transfer to {Recipient}: {Reasons}")]
    partial void LogDenied(Guid eventId, string agreementId, string recipient, string reasons);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId}: delivered to {Recipient} under {AgreementId} ({StatusCode})")]
    partial void LogDelivered(Guid eventId, string agreementId, string recipient, int? statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId}: {Recipient} rejected the transfer under {AgreementId}: {Problem}; kept as rejected for an operator")]
    partial void LogRejected(Guid eventId, string agreementId, string recipient, string? problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId}: transfer to {Recipient} under {AgreementId} parked ({Problem}); next try in {DelaySeconds:0} s")]
    partial void LogParked(Guid eventId, string agreementId, string recipient, string? problem, double delaySeconds);
}
