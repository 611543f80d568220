using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Telemetry;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Ops.Pages;

/// <summary>One transfer: the decision and why, the legal basis, the fields disclosed and withheld, every attempt, the trace.</summary>
[Authorize(Policy = OpsPolicies.Flow)]
public sealed class TransferDetailModel(OpsQueries queries, IOptions<TelemetryOptions> telemetry) : PageModel
{
    public Guid EventId { get; private set; }
    public string AgreementId { get; private set; } = "";
    public LedgerEntry? Decision { get; private set; }
    public IReadOnlyList<LedgerEntry> Entries { get; private set; } = [];
    public ParkedRow? Parked { get; private set; }
    public string? Message { get; private set; }

    public async Task OnGetAsync(Guid eventId, string agreementId, CancellationToken cancellationToken)
    {
        (EventId, AgreementId, Message) = (eventId, agreementId, TempData["Message"] as string);
        // Another controller's transfer is, for this reader, no transfer at all: the page says "not found", as for an unknown one.
        var scope = OpsScope.Of(User);
        Entries = await queries.TransferAsync(eventId, agreementId, scope, cancellationToken);
        Decision = Entries.FirstOrDefault(e => e.Kind == LedgerKinds.Decision) ?? Entries.FirstOrDefault();
        Parked = await queries.ParkedAsync(eventId, agreementId, scope, cancellationToken);
        if (Decision is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
        }
    }

    /// <summary>The trace viewer's page for the trace, when one is configured (<c>Telemetry:TraceViewerUrl</c>).</summary>
    public string? TraceLink(string traceId) =>
        telemetry.Value.TraceViewerUrl is { } url && traceId.All(char.IsAsciiHexDigit) ? url.Replace("{traceId}", traceId, StringComparison.Ordinal) : null;

    public static string Explain(string reason) => reason switch
    {
        ReasonCodes.ControllerNotParty => "the controller that sent the event is not party to this agreement",
        ReasonCodes.SenderNotCovered => "the agreement's senders do not name this controller or its kind",
        ReasonCodes.AgreementNotYetValid => "the agreement is not valid yet",
        ReasonCodes.AgreementExpired => "the agreement has expired",
        ReasonCodes.ConsentMissing => "the ground is consent, and no consent of the subject is known",
        ReasonCodes.ConsentWithdrawn => "the subject withdrew consent",
        ReasonCodes.ObjectionLodged => "the subject objected, and the agreement stops on objection",
        ReasonCodes.SubjectErased => "the subject asked for erasure, and the agreement does not override it",
        ReasonCodes.OutsideEea => "the recipient is outside the EEA without a named safeguard",
        ReasonCodes.NoticeNotSupported => "the recipient's adapter takes no erasure notice: tell the recipient another way",
        ReasonCodes.AgreementRemoved => "the agreement is no longer configured",
        ReasonCodes.AgreementChanged => "the agreement changed since the transfer was decided, and no longer routes it",
        ReasonCodes.InstrumentIncomplete => "the agreement's legal instrument lacks a part its kind needs ('policy lint' names it)",
        ReasonCodes.AwaitingApproval => "held: the agreement's text is not approved by its DPO yet",
        ReasonCodes.ReviewOverdue => "held: the agreement was due for review, and no reviewed text is approved yet",
        _ => reason,
    };
}
