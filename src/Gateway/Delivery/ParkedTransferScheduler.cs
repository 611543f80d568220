using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Subjects;
using IntegrationGateway.Gateway.Storage;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>
/// Retries parked transfers when they are due, on a longer backoff than the in-process attempts, with the same
/// idempotency key: delivered ones leave the table, refused ones stay as rejected, a 410 disables the route.
/// Transfers of a disabled recipient are left alone. Several gateways can run it: a transfer is taken under a lease.
/// A gateway that dies mid-round leaves its leases to the next round of another, or of itself started again
/// (<see cref="ITransferStore.ReclaimAsync"/>). Each is decided again before it is sent (<see cref="Policy.PolicyEngine.Redecide"/>): one whose agreement expired,
/// was removed or no longer routes its type, or whose subject has since withdrawn consent, objected or asked for erasure,
/// is blocked, not sent; the others go out projected under their agreement as it is now.
/// </summary>
public sealed partial class ParkedTransferScheduler(
    TransferDecisions decide,
    ITransferStore parked,
    IRecipientRoutes routes,
    TransferSettler settler,
    DatabaseOutage outage,
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
                if (await RunOnceAsync(stoppingToken) == settings.SchedulerBatchSize)
                {
                    continue; // more may be due
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (Intake.IntakeRetries.IsDatabaseOutage(ex))
            {
                // The database is away: what was taken stays leased and comes round again, once it answers.
                try
                {
                    await outage.WaitUntilBackAsync("scheduler", ex.GetType().Name, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
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

    /// <summary>Stops the rounds, then lets the first attempts still in flight in the background settle (up to 10 s).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await settler.DrainAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// One round: claims what is due and settles each through the <see cref="TransferSettler"/>, one recipient's
    /// transfers in turn, recipients side by side, so a slow one does not hold up the rest. Returns how many it claimed.
    /// </summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        // A gateway whose session broke (a database restart) gets two rounds to come back before its leases go.
        if (await parked.ReclaimAsync(2 * settings.SchedulerInterval, cancellationToken) is > 0 and var reclaimed)
        {
            LogReclaimed(reclaimed);
        }

        var due = await parked.ClaimDueAsync(settings.SchedulerBatchSize, settings.SchedulerLease, await routes.DisabledAsync(cancellationToken), cancellationToken);
        await Task.WhenAll(due.GroupBy(p => p.Recipient).Select(group => RetryAsync(group.Key, group, cancellationToken)));
        return due.Count;
    }

    /// <summary>One recipient's due transfers in turn; at the first that still fails, the rest are given back untried.</summary>
    async Task RetryAsync(string recipient, IEnumerable<ParkedTransfer> transfers, CancellationToken cancellationToken)
    {
        var queue = new Queue<ParkedTransfer>(transfers);
        while (queue.TryDequeue(out var p))
        {
            var attempt = TransferAttempt.Of(p);
            if (!settler.Delivers(recipient))
            {
                await settler.RefuseAsync(attempt, "no adapter is configured for this recipient any more", cancellationToken);
                continue;
            }

            var redecided = await decide.RedecideAsync(p, cancellationToken);
            if (redecided.Agreement is { } now)
            {
                // Under the agreement as it is now: its version and hash, and what it allows now if it changed since.
                attempt = attempt.Under(now, redecided);
            }

            if (redecided.Reasons.Count > 0)
            {
                await settler.BlockAsync(attempt, redecided.Reasons, cancellationToken);
                continue;
            }

            if (decide.HoldReason(redecided.Agreement!) is { } hold)
            {
                await settler.HoldForApprovalAsync(attempt, redecided.Agreement!, hold, cancellationToken);
                continue;
            }

            var settlement = await settler.DeliverAsync(attempt, cancellationToken);
            if (settlement.RecipientFailing && queue.Count > 0)
            {
                // The recipient still fails, or is gone: the others of this batch would too. Back, untried, for the same
                // time (a disabled route's transfers wait for it to be enabled: the claim skips disabled recipients).
                await parked.GiveBackAsync(queue.Select(q => q.Transfer.IdempotencyKey), p.LeaseId!.Value, settlement.NextAttemptAt, cancellationToken);
                LogGivenBack(recipient, queue.Count, (settlement.NextAttemptAt - time.GetUtcNow()).TotalSeconds);
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Took over {Count} parked transfer(s) leased by a gateway that is gone; due now")]
    partial void LogReclaimed(int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Recipient} still fails: {Count} more of its parked transfers given back untried, due in {DelaySeconds:0} s")]
    partial void LogGivenBack(string recipient, int count, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Parked-transfer scheduler: {ExceptionType}: {Problem}; trying again")]
    partial void LogSchedulerFailed(string exceptionType, string problem);
}
