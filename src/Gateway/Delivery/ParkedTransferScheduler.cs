using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Subjects;
using IntegrationGateway.Gateway.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>
/// Retries parked transfers when they are due, on a longer backoff than the in-process attempts, with the same
/// idempotency key: delivered ones leave the table, refused ones stay as rejected, a 410 disables the route.
/// Transfers of a disabled recipient are left alone. Several gateways can run it: a transfer is taken under a lease.
/// Each is decided again before it is sent (<see cref="Policy.PolicyEngine.Recheck"/>): one whose agreement expired or
/// was removed, or whose subject has since withdrawn consent, objected or asked for erasure, is blocked, not sent.
/// </summary>
internal sealed partial class ParkedTransferScheduler(
    IServiceScopeFactory scopes,
    Policy.PolicyEngine engine,
    SubjectStates subjects,
    ParkedTransfers parked,
    RecipientRoutes routes,
    LedgerWriter ledger,
    TransferCounters counters,
    TimeProvider time,
    IOptions<DeliveryOptions> options,
    ILogger<ParkedTransferScheduler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var due = await parked.ClaimDueAsync(settings.SchedulerBatchSize, settings.SchedulerLease, await routes.DisabledAsync(stoppingToken), stoppingToken);
                if (due.Count == 0)
                {
                    await Task.Delay(settings.SchedulerInterval, time, stoppingToken);
                    continue;
                }

                await using var scope = scopes.CreateAsyncScope();
                var adapters = scope.ServiceProvider.GetRequiredService<RecipientAdapters>();
                // One recipient's transfers in turn, recipients side by side: a slow one does not hold up the rest.
                await Task.WhenAll(due.GroupBy(p => p.Recipient).Select(group => adapters.Recipients.Contains(group.Key)
                    ? RetryAsync(adapters[group.Key], group, stoppingToken)
                    : HoldAsync(group, "no adapter is configured for this recipient any more", stoppingToken)));
                if (due.Count == settings.SchedulerBatchSize)
                {
                    continue; // more may be due
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                // The database is away: what was taken stays leased and comes round again.
                LogSchedulerFailed(ex.GetType().Name, ex.Message);
            }
            catch (Exception ex)
            {
                // Never let the scheduler die (it would stop the host); the type and place, not the message.
                LogSchedulerFailed(ex.GetType().Name, ex.StackTrace ?? "");
            }

            try
            {
                await Task.Delay(settings.SchedulerInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    async Task HoldAsync(IEnumerable<ParkedTransfer> transfers, string problem, CancellationToken cancellationToken)
    {
        foreach (var p in transfers)
        {
            await ledger.AppendAsync([Outcome(p, "rejected", new DeliveryResult(DeliveryStatus.Rejected, null, null, problem))], cancellationToken);
            await parked.UpdateAsync(p.Transfer.IdempotencyKey, ParkedState.Rejected, time.GetUtcNow(), null, problem, p.LeaseId!.Value, cancellationToken);
        }
    }

    /// <summary>One recipient's due transfers in turn; at the first that still fails, the rest are given back untried.</summary>
    async Task RetryAsync(IRecipientAdapter adapter, IEnumerable<ParkedTransfer> transfers, CancellationToken cancellationToken)
    {
        var queue = new Queue<ParkedTransfer>(transfers);
        while (queue.TryDequeue(out var p))
        {
            var transfer = p.Transfer;
            var lease = p.LeaseId!.Value;
            // A trace of its own (the event's was closed when the message was acknowledged); the ledger links both.
            using var span = Telemetry.GatewayTelemetry.Source.StartActivity("deliver parked " + p.Recipient, System.Diagnostics.ActivityKind.Internal, default(System.Diagnostics.ActivityContext), [
                new(Telemetry.GatewayTelemetry.Tags.Agreement, transfer.AgreementId), new(Telemetry.GatewayTelemetry.Tags.Recipient, p.Recipient),
                new(Telemetry.GatewayTelemetry.Tags.EventId, transfer.EventId.ToString("D"))]);
            var subject = EventKinds.Of(transfer.EventType).IsNotice() ? null : await subjects.ForAsync(p.Context.SubjectPseudonyms, cancellationToken);
            var reasons = engine.Recheck(transfer.AgreementId, p.Recipient, p.Context.Sender, subject, time.GetUtcNow());
            if (reasons.Count > 0)
            {
                await ledger.AppendAsync([Outcome(p, "blocked", null, reasons)], cancellationToken);
                await parked.RemoveAsync(transfer.IdempotencyKey, cancellationToken, lease);
                counters.SettledLater(p.Recipient, TransferOutcome.Blocked);
                LogBlockedLater(transfer.EventId, transfer.AgreementId, p.Recipient, string.Join(',', reasons));
                continue;
            }

            var started = time.GetTimestamp();
            var result = await adapter.DeliverOrFailAsync(transfer, cancellationToken);
            var elapsed = time.GetElapsedTime(started);
            var took = LedgerEntry.Milliseconds(elapsed);
            counters.Delivered(p.Recipient, result.Status switch
            {
                DeliveryStatus.Delivered => TransferOutcome.Delivered,
                DeliveryStatus.Rejected => TransferOutcome.Failed,
                _ => TransferOutcome.Parked,
            }, elapsed);
            span?.SetTag(Telemetry.GatewayTelemetry.Tags.Outcome, result.Status.ToString().ToLowerInvariant()).SetTag(Telemetry.GatewayTelemetry.Tags.StatusCode, result.StatusCode);

            switch (result.Status)
            {
                case DeliveryStatus.Delivered:
                    await ledger.AppendAsync([Outcome(p, "delivered", result) with { DurationMs = took }], cancellationToken);
                    await parked.RemoveAsync(transfer.IdempotencyKey, cancellationToken, lease);
                    counters.SettledLater(p.Recipient, TransferOutcome.Delivered);
                    LogDeliveredLater(transfer.EventId, transfer.AgreementId, p.Recipient, p.Attempts + 1);
                    break;
                case DeliveryStatus.Rejected:
                    await ledger.AppendAsync([Outcome(p, "rejected", result) with { DurationMs = took }], cancellationToken);
                    await parked.UpdateAsync(transfer.IdempotencyKey, ParkedState.Rejected, time.GetUtcNow(), result.StatusCode, result.Problem, lease, cancellationToken);
                    counters.SettledLater(p.Recipient, TransferOutcome.Failed);
                    break;
                case DeliveryStatus.Gone:
                    await ledger.AppendAsync([Outcome(p, "held", result) with { DurationMs = took }], cancellationToken);
                    await routes.DisableAsync(p.Recipient, result.Problem ?? "410 Gone", cancellationToken);
                    await parked.UpdateAsync(transfer.IdempotencyKey, ParkedState.RecipientDisabled, time.GetUtcNow(), result.StatusCode, result.Problem, lease, cancellationToken);
                    await parked.GiveBackAsync(queue.Select(q => q.Transfer.IdempotencyKey), lease, time.GetUtcNow(), cancellationToken);
                    return; // the rest wait for the route to be enabled: the claim skips disabled recipients
                default:
                    var next = time.GetUtcNow() + options.Value.ParkedBackoff(p.Attempts + 1, result.RetryAfter);
                    // Every attempt is in the ledger, the failed ones too: operators see each try, its status and time.
                    await ledger.AppendAsync([Outcome(p, "parked", result) with { DurationMs = took }], cancellationToken);
                    await parked.UpdateAsync(transfer.IdempotencyKey, ParkedState.Waiting, next, result.StatusCode, result.Problem, lease, cancellationToken);
                    // The recipient still fails: the others of this batch would too. Back, untried, for the same time.
                    await parked.GiveBackAsync(queue.Select(q => q.Transfer.IdempotencyKey), lease, next, cancellationToken);
                    LogStillFailing(transfer.EventId, p.Recipient, result.Problem, (next - time.GetUtcNow()).TotalSeconds, queue.Count);
                    return;
            }
        }
    }

    /// <summary>The ledger's line for a later outcome of a parked transfer: the decision's context, this attempt's facts.</summary>
    static LedgerEntry Outcome(ParkedTransfer p, string outcome, DeliveryResult? result, IReadOnlyList<string>? reasons = null) => new()
    {
        Reasons = reasons ?? [],
        Kind = LedgerKinds.Outcome,
        EventId = p.Transfer.EventId,
        EventType = p.Transfer.EventType,
        Sender = p.Context.Sender,
        AgreementId = p.Transfer.AgreementId,
        AgreementVersion = p.Context.AgreementVersion,
        Recipient = p.Recipient,
        LegalBasis = p.Context.LegalBasis,
        Outcome = outcome,
        PayloadSha256 = result?.SentSha256,
        IdempotencyKey = p.Transfer.IdempotencyKey,
        Attempts = p.Attempts + (result is null ? 0 : 1),
        StatusCode = result?.StatusCode,
        Receipt = result?.Receipt,
        TraceId = System.Diagnostics.Activity.Current?.TraceId.ToString(),
        SubjectPseudonyms = p.Context.SubjectPseudonyms,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId}: parked transfer delivered to {Recipient} under {AgreementId} (attempt {Attempt})")]
    partial void LogDeliveredLater(Guid eventId, string agreementId, string recipient, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId}: parked transfer to {Recipient} under {AgreementId} decided again and blocked ({Reasons}); not sent")]
    partial void LogBlockedLater(Guid eventId, string agreementId, string recipient, string reasons);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId}: parked transfer to {Recipient} failed again ({Problem}); next try in {DelaySeconds:0} s, with {Others} more of its transfers")]
    partial void LogStillFailing(Guid eventId, string recipient, string? problem, double delaySeconds, int others);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Parked-transfer scheduler: {ExceptionType}: {Problem}; trying again")]
    partial void LogSchedulerFailed(string exceptionType, string problem);
}
