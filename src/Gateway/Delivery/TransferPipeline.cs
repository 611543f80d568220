using System.Text.Json;
using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Policy;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>
/// One event through the gateway: policy decision per routed agreement, projection, delivery by the
/// recipient's adapter. Knows nothing of RabbitMQ; the consumer hands it the event and acknowledges the message
/// when this returns.
/// <para>A transfer that fails transiently is retried on its own, with exponential backoff and jitter, until it is
/// delivered or refused; the recipients that already have theirs are not sent it again. Until then the message
/// stays unacknowledged, so a shutdown (which cancels the token) hands it back to the broker whole: nothing is
/// lost and nothing goes to an error queue.</para>
/// </summary>
public sealed partial class TransferPipeline(
    PolicyEngine engine,
    RecipientAdapters adapters,
    TransferCounters counters,
    TimeProvider time,
    IOptions<DeliveryOptions> options,
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
            var result = await DeliverAsync(adapters[agreement.Recipient], transfer, cancellationToken).ConfigureAwait(false);
            if (result.Status == DeliveryStatus.Delivered)
            {
                LogDelivered(eventId, agreement.Id, agreement.Recipient, result.StatusCode);
                settled.Add((agreement.Recipient, TransferOutcome.Delivered));
            }
            else
            {
                LogRejected(eventId, agreement.Id, agreement.Recipient, result.Problem);
                settled.Add((agreement.Recipient, TransferOutcome.Failed));
            }
        }

        // Counted only once the whole event is settled, so an event handed back at shutdown is not counted twice.
        counters.Settled(settled);
    }

    async Task<DeliveryResult> DeliverAsync(IRecipientAdapter adapter, OutboundTransfer transfer, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        for (var attempt = 1; ; attempt++)
        {
            var result = await adapter.DeliverAsync(transfer, cancellationToken).ConfigureAwait(false);
            if (result.Status != DeliveryStatus.Transient)
            {
                return result;
            }

            var delay = Backoff(attempt, settings);
            LogTransient(transfer.EventId, transfer.AgreementId, adapter.Recipient, attempt, result.Problem, delay.TotalSeconds);
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Exponential from the base delay, capped, with up to 25 % jitter so retries of many events spread out.</summary>
    static TimeSpan Backoff(int attempt, DeliveryOptions settings)
    {
        var exponential = settings.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(exponential, settings.RetryMaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (1 + (Random.Shared.NextDouble() * 0.25)));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} ({EventType}, {Jurisdiction}): no agreement routes it; nothing transferred")]
    partial void LogUnrouted(Guid eventId, string eventType, string jurisdiction);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId}: agreement {AgreementId} denies transfer to {Recipient}: {Reasons}")]
    partial void LogDenied(Guid eventId, string agreementId, string recipient, string reasons);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId}: delivered to {Recipient} under {AgreementId} ({StatusCode})")]
    partial void LogDelivered(Guid eventId, string agreementId, string recipient, int? statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId}: {Recipient} rejected the transfer under {AgreementId}: {Problem}")]
    partial void LogRejected(Guid eventId, string agreementId, string recipient, string? problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId}: attempt {Attempt} to deliver to {Recipient} under {AgreementId} failed ({Problem}); retrying in {DelaySeconds:0.0} s")]
    partial void LogTransient(Guid eventId, string agreementId, string recipient, int attempt, string? problem, double delaySeconds);
}
