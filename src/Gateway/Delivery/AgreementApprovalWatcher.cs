using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Storage;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>
/// Keeps <see cref="AgreementApprovals"/> in step with the database. At start, before the intake consumes anything: the
/// agreement texts loaded are recorded (<see cref="AgreementVersions"/>) and the approvals read; each text not approved
/// is named in the log with the command that approves it. Then every scheduler interval: the approvals read again (one
/// made on another gateway, the CLI or the ops page counts here within a round) and the transfers held for a text
/// approved meanwhile released, so none waits for an approval that already happened.
/// </summary>
public sealed partial class AgreementApprovalWatcher(
    AgreementVersions versions,
    AgreementApprovals approvals,
    PolicyEngine engine,
    IOptions<AgreementsOptions> agreements,
    IOptions<DeliveryOptions> delivery,
    DatabaseOutage outage,
    TimeProvider time,
    ILogger<AgreementApprovalWatcher> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await versions.RecordAsync(engine.Agreements, agreements.Value.ApproveOnLoad ? AgreementVersions.ApprovedOnLoad : null, cancellationToken);
        await RefreshAsync(cancellationToken);
        foreach (var pending in engine.Agreements.Where(a => !approvals.Approves(a)))
        {
            LogPending(pending.Id, pending.Version, pending.Hash);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delivery.Value.SchedulerInterval, time, stoppingToken);
                await RefreshAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (Intake.IntakeRetries.IsDatabaseOutage(ex))
            {
                // The database is away: the approvals known stay as they were; read again once it answers (said once, by the outage).
                try
                {
                    await outage.WaitUntilBackAsync("agreement approvals", ex.GetType().Name, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch (Exception ex)
            {
                // Never let the watcher die (it would stop the host): the approvals known stay as they were, and the
                // next round reads them again (the database away, most likely). The type and place, not the message.
                LogRefreshFailed(ex.GetType().Name, ex.StackTrace ?? "");
            }
        }
    }

    async Task RefreshAsync(CancellationToken cancellationToken)
    {
        approvals.Set(await versions.ApprovedAsync(cancellationToken, approvedOnLoadCounts: agreements.Value.ApproveOnLoad));
        var approved = engine.Agreements.Where(approvals.Approves).Select(a => a.Id).ToList();
        if (approved.Count > 0 && await versions.ReleaseAsync(approved, cancellationToken) is > 0 and var released)
        {
            LogReleased(released);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agreement {AgreementId} version {Version} ({Hash}) is not approved: its transfers are held until the DPO approves it ('policy approve --agreement {AgreementId} --hash {Hash}')")]
    partial void LogPending(string agreementId, int version, string hash);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agreement approvals not read: {ExceptionType}: {Problem}; the approvals known stay, trying again")]
    partial void LogRefreshFailed(string exceptionType, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} held transfer(s) of approved agreements released; due now")]
    partial void LogReleased(int count);
}
