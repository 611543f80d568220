using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>
/// Retries parked transfers when they are due, on a longer backoff than the in-process attempts, with the same
/// idempotency key: delivered ones leave the table, refused ones stay as rejected, a 410 disables the route.
/// Transfers of a disabled recipient are left alone. Several gateways can run it: a transfer is taken under a lease.
/// </summary>
internal sealed partial class ParkedTransferScheduler(
    IServiceScopeFactory scopes,
    ParkedTransfers parked,
    RecipientRoutes routes,
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
            await parked.UpdateAsync(p.Transfer.IdempotencyKey, ParkedState.Rejected, time.GetUtcNow(), null, problem, cancellationToken);
        }
    }

    async Task RetryAsync(IRecipientAdapter adapter, IEnumerable<ParkedTransfer> transfers, CancellationToken cancellationToken)
    {
        foreach (var p in transfers)
        {
            var transfer = p.Transfer;
            var result = await adapter.DeliverAsync(transfer, cancellationToken);
            switch (result.Status)
            {
                case DeliveryStatus.Delivered:
                    await parked.RemoveAsync(transfer.IdempotencyKey, cancellationToken);
                    counters.SettledLater(p.Recipient, TransferOutcome.Delivered);
                    LogDeliveredLater(transfer.EventId, transfer.AgreementId, p.Recipient, p.Attempts + 1);
                    break;
                case DeliveryStatus.Rejected:
                    await parked.UpdateAsync(transfer.IdempotencyKey, ParkedState.Rejected, time.GetUtcNow(), result.StatusCode, result.Problem, cancellationToken);
                    counters.SettledLater(p.Recipient, TransferOutcome.Failed);
                    break;
                case DeliveryStatus.Gone:
                    await routes.DisableAsync(p.Recipient, result.Problem ?? "410 Gone", cancellationToken);
                    await parked.UpdateAsync(transfer.IdempotencyKey, ParkedState.RecipientDisabled, time.GetUtcNow(), result.StatusCode, result.Problem, cancellationToken);
                    return; // the rest of this recipient's batch waits for the route to be enabled
                default:
                    var wait = options.Value.ParkedBackoff(p.Attempts + 1, result.RetryAfter);
                    await parked.UpdateAsync(transfer.IdempotencyKey, ParkedState.Waiting, time.GetUtcNow() + wait, result.StatusCode, result.Problem, cancellationToken);
                    LogStillFailing(transfer.EventId, p.Recipient, result.Problem, wait.TotalSeconds);
                    break;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId}: parked transfer delivered to {Recipient} under {AgreementId} (attempt {Attempt})")]
    partial void LogDeliveredLater(Guid eventId, string agreementId, string recipient, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId}: parked transfer to {Recipient} failed again ({Problem}); next try in {DelaySeconds:0} s")]
    partial void LogStillFailing(Guid eventId, string recipient, string? problem, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Parked-transfer scheduler: {ExceptionType}: {Problem}; trying again")]
    partial void LogSchedulerFailed(string exceptionType, string problem);
}
