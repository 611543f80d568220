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
/// approved meanwhile released, so none waits for an approval that already happened. An agreement whose <c>reviewBy</c> is
/// within <see cref="AgreementLinter.ReviewNoticeDays"/> days is named at start; one whose day passes is named when it
/// does (its transfers are held from then on, <see cref="ReasonCodes.ReviewOverdue"/>). The gauge <c>gateway.agreements</c>
/// counts the loaded agreements by state: <c>approved</c>, <c>pending</c>, <c>review-due</c>, <c>review-overdue</c>.
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
    // A meter of its own (the transfers' name, so what exports those exports this), gone with this watcher.
    readonly System.Diagnostics.Metrics.Meter _meter = new(TransferCounters.MeterName);
    readonly HashSet<string> _overdue = new(StringComparer.Ordinal);

    /// <summary>The state of an agreement as the gauge counts it.</summary>
    string StateOf(Agreement agreement, DateOnly today) =>
        !approvals.Approves(agreement) ? "pending" : AgreementLinter.ReviewState(agreement, today) ?? "approved";

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await versions.RecordAsync(engine.Agreements, agreements.Value.ApproveOnLoad ? AgreementVersions.ApprovedOnLoad : null, cancellationToken);
        await RefreshAsync(cancellationToken);
        // After the first read of the approvals: before it, every text would count as pending.
        _meter.CreateObservableGauge("gateway.agreements", () =>
        {
            var today = PolicyEngine.LegalDate(time.GetUtcNow());
            var counts = engine.Agreements.GroupBy(a => StateOf(a, today)).ToDictionary(g => g.Key, g => g.Count());
            return ((string[])["approved", "pending", AgreementLinter.ReviewDue, AgreementLinter.ReviewOverdue]).Select(state =>
                new System.Diagnostics.Metrics.Measurement<int>(counts.GetValueOrDefault(state), new KeyValuePair<string, object?>("state", state)));
        }, "{agreement}", "Agreements loaded, by state: approved, pending (held for approval), review-due (within 30 days), review-overdue (held).");
        foreach (var pending in engine.Agreements.Where(a => !approvals.Approves(a)))
        {
            LogPending(pending.Id, pending.Version, pending.Hash);
        }

        var today = PolicyEngine.LegalDate(time.GetUtcNow());
        foreach (var agreement in engine.Agreements.Where(a => StateOf(a, today) == AgreementLinter.ReviewDue))
        {
            LogReviewDue(agreement.Id, agreement.Version, agreement.ReviewBy, agreement.ReviewBy.DayNumber - today.DayNumber);
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
        var today = PolicyEngine.LegalDate(time.GetUtcNow());
        var approved = new List<string>();
        foreach (var agreement in engine.Agreements)
        {
            switch (approvals.HoldReason(agreement, today))
            {
                case null:
                    approved.Add(agreement.Id);
                    break;
                case ReasonCodes.ReviewOverdue when _overdue.Add(agreement.Id):
                    LogReviewOverdue(agreement.Id, agreement.Version, agreement.ReviewBy);
                    break;
            }
        }

        if (approved.Count > 0 && await versions.ReleaseAsync(approved, cancellationToken) is > 0 and var released)
        {
            LogReleased(released);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agreement {AgreementId} version {Version} ({Hash}) is not approved: its transfers are held until the DPO approves it ('policy approve --agreement {AgreementId} --hash {Hash}')")]
    partial void LogPending(string agreementId, int version, string hash);

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agreement {AgreementId} version {Version} was due for review by {ReviewBy:yyyy-MM-dd}: its transfers are held until the DPO approves a reviewed text (with the next reviewBy)")]
    partial void LogReviewOverdue(string agreementId, int version, DateOnly reviewBy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agreement {AgreementId} version {Version} is due for review by {ReviewBy:yyyy-MM-dd}, in {Days} day(s); after that day its transfers are held until a reviewed text is approved")]
    partial void LogReviewDue(string agreementId, int version, DateOnly reviewBy, int days);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agreement approvals not read: {ExceptionType}: {Problem}; the approvals known stay, trying again")]
    partial void LogRefreshFailed(string exceptionType, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} held transfer(s) of approved agreements released; due now")]
    partial void LogReleased(int count);
}
