using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntegrationGateway.Gateway.Ops.Pages;

/// <summary>
/// Disables a recipient's route (its transfers are held) or enables it (they become due). A recipient serves every
/// controller, so only the platform's admins change its route; recorded.
/// </summary>
[Authorize(Policy = OpsPolicies.Changes)]
public sealed class RecipientRouteModel(RecipientAdapters adapters, RecipientRoutes routes, ParkedTransfers parked, OpsAudit audit) : PageModel
{
    public IActionResult OnGet() => Redirect("/ops/recipients");

    public async Task<IActionResult> OnPostAsync(string? recipient, string? change, CancellationToken cancellationToken)
    {
        if (!OpsScope.Of(User).IsPlatform)
        {
            return Forbid();
        }

        if (recipient is null || !adapters.Recipients.Contains(recipient) || change is not ("enable" or "disable"))
        {
            return BadRequest();
        }

        var who = User.Identity!.Name!;
        if (change == "disable")
        {
            await routes.DisableAsync(recipient, $"disabled by {who} in the ops app", cancellationToken);
            await audit.RecordAsync(who, OpsAudit.Actions.RecipientDisabled, recipient, "", OpsScope.All, cancellationToken);
            TempData["Message"] = $"{recipient} disabled: its transfers are held until it is enabled.";
        }
        else
        {
            await routes.EnableAsync(recipient, cancellationToken);
            var released = await parked.ReleaseAsync(recipient, cancellationToken);
            await audit.RecordAsync(who, OpsAudit.Actions.RecipientEnabled, recipient, $"{released} held transfer(s) released", OpsScope.All, cancellationToken);
            TempData["Message"] = $"{recipient} enabled: {released} held transfer(s) are due now.";
        }

        return Redirect("/ops/recipients");
    }
}
