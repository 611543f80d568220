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
    TransferDecisions decide,
    TransferSettler settler,
    ITransferLedger ledger,
    LedgerKeys ledgerKeys,
    TransferCounters counters,
    ILogger<TransferPipeline> logger)
{
    /// <summary>
    /// Decides, delivers or parks every transfer of one event; returns when all are settled. True when the event's
    /// intake record was marked settled with its ledger entries (<paramref name="settles"/>, and something was decided);
    /// false when there was nothing to record, and the caller marks it.
    /// </summary>
    /// <param name="eventId">The event's id.</param>
    /// <param name="facts">Type, jurisdiction and sender, for routing.</param>
    /// <param name="body">The event as published (validated).</param>
    /// <param name="cancellationToken">Cancelled at shutdown: then nothing is counted, and the message goes back.</param>
    /// <param name="redelivered">The broker delivered the message before: a transfer parked then may be delivered now.</param>
    /// <param name="settles">Mark the event's intake record settled in the ledger's commit.</param>
    /// <param name="known">The subject's pseudonyms and state, when the intake read them already; else they are read here.</param>
    public async Task<bool> ProcessAsync(Guid eventId, EventFacts facts, JsonElement body, CancellationToken cancellationToken, bool redelivered = false, bool settles = false, KnownSubject? known = null)
    {
        // One span for the decision and the deliveries under it; each decision an event on it (agreement, recipient,
        // allow or deny and the reasons), each delivery a child span (with the HTTP call under it).
        using var policy = GatewayTelemetry.Source.StartActivity("policy " + facts.EventType);
        var pseudonyms = known?.Pseudonyms ?? ledgerKeys.Pseudonyms(body);
        var decisions = await decide.DecideAsync(eventId, facts, body, pseudonyms, cancellationToken, known?.State).ConfigureAwait(false);
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
            return false;
        }

        // The recipients side by side: one that is slow or failing does not delay the others' transfers. An attempt
        // still in flight when it is parked writes its outcome once the decisions below are committed.
        var decided = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ((string Recipient, TransferOutcome Outcome) Counted, LedgerEntry Entry)[] settled;
        try
        {
            settled = await Task.WhenAll(decisions.Select(async decision =>
            {
                var agreement = decision.Agreement;
                var context = new DecisionContext(facts.Controller?.Id ?? "", facts.InstitutionId, agreement.Version, agreement.LegalBasis.Cited, pseudonyms) { AgreementHash = agreement.Hash };
                if (!decision.Allowed)
                {
                    LogDenied(eventId, agreement.Id, agreement.Recipient, string.Join(',', decision.Reasons));
                    return (Counted: (agreement.Recipient, TransferOutcome.Blocked), Entry: Entry(decision, context, body, facts, eventId) with { Outcome = "blocked" });
                }

                var attempt = new TransferAttempt(
                    new OutboundTransfer(OutboundTransfer.KeyFor(decision.Reference, agreement.Id), eventId, facts.EventType, agreement.Id, decision.Payload!) { AgreementHash = agreement.Hash },
                    agreement.Recipient, context, Redelivered: redelivered) { Decided = decided.Task };
                if (decide.HoldReason(agreement) is { } hold)
                {
                    // Allowed, but under a text no DPO has approved (or one past its review): held, not sent and not dropped, until it is.
                    var held = await settler.HoldForApprovalAsync(attempt, agreement, hold, cancellationToken).ConfigureAwait(false);
                    return (Counted: (agreement.Recipient, held.Outcome), Entry: held.ApplyTo(Entry(decision, context, body, facts, eventId), attempt) with { Reasons = [hold] });
                }

                var settlement = await settler.DeliverAsync(attempt, cancellationToken).ConfigureAwait(false);
                return (Counted: (agreement.Recipient, settlement.Outcome), Entry: settlement.ApplyTo(Entry(decision, context, body, facts, eventId), attempt));
            })).ConfigureAwait(false);

            // The decisions and their outcomes are committed to the ledger before the message is acknowledged.
            await ledger.AppendAsync([.. settled.Select(s => s.Entry)], cancellationToken, settles ? eventId : null).ConfigureAwait(false);
            decided.TrySetResult();
        }
        catch (Exception ex)
        {
            // Nothing decided is committed: an attempt still in flight leaves its row under this gateway's lease.
            decided.TrySetException(ex);
            _ = decided.Task.Exception; // observed: no attempt may be waiting on it
            throw;
        }

        // Counted only once the whole event is settled, so an event handed back at shutdown is not counted twice.
        counters.Settled(eventId, [.. settled.Select(s => s.Counted)]);
        return settles;
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

    /// <summary>
    /// The ledger's line for one decision: field names, hashes and codes, never a value; the settler adds its first
    /// outcome (<see cref="Settlement.ApplyTo"/>).
    /// </summary>
    static LedgerEntry Entry(PolicyDecision decision, DecisionContext context, JsonElement body, EventFacts facts, Guid eventId)
    {
        var disclosed = new SortedSet<string>(StringComparer.Ordinal);
        var withheld = new SortedSet<string>(StringComparer.Ordinal);
        decision.Classify(facts.EventType, body, disclosed, withheld);
        return new LedgerEntry
        {
            Kind = LedgerKinds.Decision,
            EventId = eventId,
            EventType = facts.EventType,
            Controller = context.Controller,
            Sender = context.Sender,
            AgreementId = decision.Agreement.Id,
            AgreementVersion = context.AgreementVersion,
            AgreementHash = context.AgreementHash,
            Recipient = decision.Agreement.Recipient,
            LegalBasis = context.LegalBasis,
            Outcome = "",
            Reasons = decision.Reasons,
            Disclosed = LedgerPaths(facts.EventType, disclosed),
            Withheld = LedgerPaths(facts.EventType, withheld),
            TraceId = Activity.Current?.TraceId.ToString(),
            SubjectPseudonyms = context.SubjectPseudonyms,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} ({EventType}, {Jurisdiction}): no agreement routes it; nothing transferred")]
    partial void LogUnrouted(Guid eventId, string eventType, string jurisdiction);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} ({EventType}): no earlier recipient of the subject's data is owed a notice")]
    partial void LogNoNoticeOwed(Guid eventId, string eventType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId}: agreement {AgreementId} denies transfer to {Recipient}: {Reasons}")]
    partial void LogDenied(Guid eventId, string agreementId, string recipient, string reasons);
}
