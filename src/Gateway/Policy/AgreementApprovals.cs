using System.Collections.Frozen;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// Which agreement texts a DPO has approved, by the hash of their content: a transfer goes out only under an approved
/// one; any other is held (<see cref="ReasonCodes.AwaitingApproval"/>). Filled from the database at start and on every
/// round of the watcher (<c>AgreementApprovalWatcher</c>), so an approval made with <c>policy approve</c> or on the ops page
/// reaches every running gateway within a round. Before the first read nothing is approved: held, not sent.
/// </summary>
public sealed class AgreementApprovals
{
    volatile FrozenSet<string> _approved = FrozenSet<string>.Empty;

    /// <summary>Every text approved, whatever the database says: for the component tier and for tools that send nothing.</summary>
    public static AgreementApprovals All() => new() { Everything = true };

    bool Everything { get; init; }

    public bool Approves(Agreement agreement) => Everything || _approved.Contains(agreement.Hash);

    /// <summary>
    /// Why a transfer allowed under <paramref name="agreement"/> is held rather than sent on <paramref name="today"/>
    /// (a calendar day in the legal time zone, <see cref="PolicyEngine.LegalDate"/>): its text is not approved
    /// (<see cref="ReasonCodes.AwaitingApproval"/>), or was due for review by a day now past
    /// (<see cref="ReasonCodes.ReviewOverdue"/>: the approval of a text covers it until its <c>reviewBy</c>, no longer).
    /// Null: it may be sent.
    /// </summary>
    public string? HoldReason(Agreement agreement, DateOnly today) =>
        !Approves(agreement) ? ReasonCodes.AwaitingApproval
        : AgreementLinter.ReviewState(agreement, today) == AgreementLinter.ReviewOverdue ? ReasonCodes.ReviewOverdue
        : null;

    public void Set(IEnumerable<string> approvedHashes) => _approved = approvedHashes.ToFrozenSet(StringComparer.Ordinal);
}
