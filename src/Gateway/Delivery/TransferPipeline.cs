using System.Text.Json;
using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Policy;
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
    TransferCounters counters,
    TimeProvider time,
    IOptions<DeliveryOptions> options,
    IOptions<RecipientResilienceOptions> resilience,
    ILogger<TransferPipeline> logger)
{
    public async Task ProcessAsync(Guid eventId, EventFacts facts, JsonElement body, CancellationToken cancellationToken)
    {
        // Consents, objections and erasures are not stored yet: unknown means no consent, so consent-based
        // agreements deny (consent-missing) until the subject-rights store exists.
        var decisions = engine.Evaluate(facts, body, SubjectState.Unknown, time.GetUtcNow());
        if (decisions.Count == 0)
        {
            LogUnrouted(eventId, facts.EventType, facts.Jurisdiction);
            counters.Settled([]);
            return;
        }

        var settled = new List<(string, TransferOutcome)>(decisions.Count);
        foreach (var decision in decisions)
        {
            var agreement = decision.Agreement;
            if (!decision.Allowed)
            {
                LogDenied(eventId, agreement.Id, agreement.Recipient, string.Join(',', decision.Reasons));
                settled.Add((agreement.Recipient, TransferOutcome.Blocked));
                continue;
            }

            var transfer = new OutboundTransfer(
                OutboundTransfer.KeyFor(eventId, agreement.Id), eventId, facts.EventType, agreement.Id, decision.Payload!);
            settled.Add((agreement.Recipient, await DeliverAsync(transfer, agreement.Recipient, cancellationToken).ConfigureAwait(false)));
        }

        // Counted only once the whole event is settled, so an event handed back at shutdown is not counted twice.
        counters.Settled(settled);
    }

    async Task<TransferOutcome> DeliverAsync(OutboundTransfer transfer, string recipient, CancellationToken cancellationToken)
    {
        if ((await routes.DisabledAsync(cancellationToken).ConfigureAwait(false)).Contains(recipient))
        {
            await ParkAsync(transfer, recipient, ParkedState.RecipientDisabled, 0, null, "the recipient's route is disabled", null, cancellationToken).ConfigureAwait(false);
            return TransferOutcome.Parked;
        }

        var result = await adapters[recipient].DeliverAsync(transfer, cancellationToken).ConfigureAwait(false);
        // What the recipient's client tried in process before giving this answer (none while its circuit is open).
        var attempts = result.StatusCode is null && result.Problem?.EndsWith("circuit open", StringComparison.Ordinal) == true ? 0 : resilience.Value.Attempts;
        switch (result.Status)
        {
            case DeliveryStatus.Delivered:
                LogDelivered(transfer.EventId, transfer.AgreementId, recipient, result.StatusCode);
                return TransferOutcome.Delivered;
            case DeliveryStatus.Rejected:
                LogRejected(transfer.EventId, transfer.AgreementId, recipient, result.Problem);
                await ParkAsync(transfer, recipient, ParkedState.Rejected, attempts, result.StatusCode, result.Problem, null, cancellationToken).ConfigureAwait(false);
                return TransferOutcome.Failed;
            case DeliveryStatus.Gone:
                await routes.DisableAsync(recipient, result.Problem ?? "410 Gone", cancellationToken).ConfigureAwait(false);
                await ParkAsync(transfer, recipient, ParkedState.RecipientDisabled, attempts, result.StatusCode, result.Problem, null, cancellationToken).ConfigureAwait(false);
                return TransferOutcome.Parked;
            default:
                var wait = options.Value.ParkedBackoff(1, result.RetryAfter);
                LogParked(transfer.EventId, transfer.AgreementId, recipient, result.Problem, wait.TotalSeconds);
                await ParkAsync(transfer, recipient, ParkedState.Waiting, attempts, result.StatusCode, result.Problem, wait, cancellationToken).ConfigureAwait(false);
                return TransferOutcome.Parked;
        }
    }

    Task ParkAsync(OutboundTransfer transfer, string recipient, string state, int attempts, int? status, string? problem, TimeSpan? wait, CancellationToken cancellationToken) =>
        parked.ParkAsync(new ParkedTransfer(transfer, recipient, state, attempts, time.GetUtcNow() + (wait ?? TimeSpan.Zero), status, problem), cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} ({EventType}, {Jurisdiction}): no agreement routes it; nothing transferred")]
    partial void LogUnrouted(Guid eventId, string eventType, string jurisdiction);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId}: agreement {AgreementId} denies transfer to {Recipient}: {Reasons}")]
    partial void LogDenied(Guid eventId, string agreementId, string recipient, string reasons);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId}: delivered to {Recipient} under {AgreementId} ({StatusCode})")]
    partial void LogDelivered(Guid eventId, string agreementId, string recipient, int? statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId}: {Recipient} rejected the transfer under {AgreementId}: {Problem}; kept as rejected for an operator")]
    partial void LogRejected(Guid eventId, string agreementId, string recipient, string? problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId}: transfer to {Recipient} under {AgreementId} parked ({Problem}); next try in {DelaySeconds:0} s")]
    partial void LogParked(Guid eventId, string agreementId, string recipient, string? problem, double delaySeconds);
}
