using System.Text.Json;
using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>
/// Thrown when at least one allowed transfer of an event could not be delivered yet. The intake retries the
/// message; the message names the event and the count, never a payload value.
/// </summary>
public sealed class TransferNotSettledException(Guid eventId, int pending)
    : Exception($"event {eventId:D}: {pending} transfer(s) not delivered yet, will retry");

/// <summary>
/// One event through the gateway: policy decision per routed agreement, projection, delivery by the
/// recipient's adapter. Knows nothing of RabbitMQ; the consumer hands it the event.
/// </summary>
public sealed partial class TransferPipeline(
    PolicyEngine engine,
    RecipientAdapters adapters,
    TransferCounters counters,
    TimeProvider time,
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
        var pending = 0;
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
            var result = await adapters[agreement.Recipient].DeliverAsync(transfer, cancellationToken).ConfigureAwait(false);
            switch (result.Status)
            {
                case DeliveryStatus.Delivered:
                    LogDelivered(eventId, agreement.Id, agreement.Recipient, result.StatusCode);
                    settled.Add((agreement.Recipient, TransferOutcome.Delivered));
                    break;
                case DeliveryStatus.Rejected:
                    LogRejected(eventId, agreement.Id, agreement.Recipient, result.Problem);
                    settled.Add((agreement.Recipient, TransferOutcome.Failed));
                    break;
                default:
                    LogTransient(eventId, agreement.Id, agreement.Recipient, result.Problem);
                    pending++;
                    break;
            }
        }

        if (pending > 0)
        {
            // Counted only once the event settles, so a retried event is not counted twice.
            throw new TransferNotSettledException(eventId, pending);
        }

        counters.Settled(settled);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} ({EventType}, {Jurisdiction}): no agreement routes it; nothing transferred")]
    partial void LogUnrouted(Guid eventId, string eventType, string jurisdiction);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId}: agreement {AgreementId} denies transfer to {Recipient}: {Reasons}")]
    partial void LogDenied(Guid eventId, string agreementId, string recipient, string reasons);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId}: delivered to {Recipient} under {AgreementId} ({StatusCode})")]
    partial void LogDelivered(Guid eventId, string agreementId, string recipient, int? statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId}: {Recipient} rejected the transfer under {AgreementId}: {Problem}")]
    partial void LogRejected(Guid eventId, string agreementId, string recipient, string? problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId}: delivery to {Recipient} under {AgreementId} failed, will retry: {Problem}")]
    partial void LogTransient(Guid eventId, string agreementId, string recipient, string? problem);
}
