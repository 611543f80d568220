using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Ops.Pages;

/// <summary>
/// A DPO approves an agreement's text as it is loaded now, by its hash (the one the agreements page shows): its held
/// transfers are released. Only a DPO of a real controller party to the agreement (a synthetic one's DPO approves nothing
/// for the real ones), or the platform's; recorded in the staff audit first.
/// </summary>
[Authorize(Policy = OpsPolicies.Approvals)]
public sealed class AgreementApprovalModel(PolicyEngine engine, ControllerRegistry controllers, AgreementVersions versions, AgreementApprovals approvals, OpsAudit audit, IOptions<AgreementsOptions> options) : PageModel
{
    public IActionResult OnGet() => Redirect("/ops/agreements");

    public async Task<IActionResult> OnPostAsync(string? agreement, string? hash, CancellationToken cancellationToken)
    {
        // Only the text the gateway runs on now, named by the hash the page showed: a text edited since is not approved unseen.
        if (engine.Agreements.FirstOrDefault(a => a.Id == agreement) is not { } loaded || loaded.Hash != hash)
        {
            return BadRequest();
        }

        if (!AgreementsModel.MayApprove(User, controllers, loaded.Id))
        {
            return Forbid();
        }

        var who = User.Identity!.Name!;
        var parties = OpsScope.Of(controllers.All.Where(c => c.PartyTo(loaded.Id)).Select(c => c.Id)); // the row is for their DPOs to read
        await audit.RecordAsync(who, OpsAudit.Actions.AgreementApproved, loaded.Id, $"{loaded.Hash}; version {loaded.Version}", parties, cancellationToken);
        var (_, already, released) = await versions.ApproveAsync(loaded.Id, loaded.Hash, who, cancellationToken);
        approvals.Set(await versions.ApprovedAsync(cancellationToken, approvedOnLoadCounts: options.Value.ApproveOnLoad));
        TempData["Message"] = already
            ? $"{loaded.Id} version {loaded.Version} was approved already; {released} held transfer(s) released."
            : $"{loaded.Id} version {loaded.Version} approved: {released} held transfer(s) are due now.";
        return Redirect("/ops/agreements");
    }
}
