using IntegrationGateway.Gateway.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntegrationGateway.Gateway.Ops.Pages;

/// <summary>
/// Replays parked or refused transfers: each becomes due now, and the scheduler decides it again as of now before it
/// sends it. Admins only; who asked, when and for which transfers is recorded.
/// </summary>
[Authorize(Policy = OpsPolicies.Changes)]
public sealed class ReplayModel(ParkedTransfers parked, OpsQueries queries, OpsAudit audit) : PageModel
{
    public IActionResult OnGet() => Redirect("/ops/parked");

    public async Task<IActionResult> OnPostAsync(string[]? keys, string? returnUrl, CancellationToken cancellationToken)
    {
        var asked = (keys ?? []).Where(k => k.Length is > 0 and <= 200).Distinct(StringComparer.Ordinal).Take(1000).ToList();
        // Only the reader's controllers' transfers: another's key is treated as no transfer (not replayed, not named back).
        var scope = OpsScope.Of(User);
        var wanted = new List<string>();
        var controllerOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in asked)
        {
            if (await queries.ParkedAsync(key, scope, cancellationToken) is { } row)
            {
                wanted.Add(key);
                controllerOf[key] = row.Controller;
            }
        }

        var refused = asked.Count - wanted.Count;
        foreach (var key in asked.Except(wanted, StringComparer.Ordinal))
        {
            // Its target names what the user typed, which may be another controller's: the row is for the platform's staff only.
            await audit.RecordAsync(User.Identity!.Name!, OpsAudit.Actions.Replayed, key, "not replayed: no such parked transfer among the user's controllers", OpsScope.All, cancellationToken);
        }

        var back = Url.IsLocalUrl(returnUrl) ? returnUrl! : "/ops/parked";
        if (wanted.Count == 0)
        {
            TempData["Message"] = refused == 0 ? "Nothing selected." : $"Nothing replayed: {refused} not found among your controllers' parked transfers.";
            return LocalRedirect(back);
        }

        var replayed = await parked.ReplayAsync(wanted, cancellationToken);
        // One row per transfer asked for: who asked, and whether it was replayed.
        foreach (var key in wanted)
        {
            await audit.RecordAsync(User.Identity!.Name!, OpsAudit.Actions.Replayed, key,
                replayed.Contains(key) ? "due now, decided again before it is sent" : "not replayed: being tried, delivered meanwhile, or its route is disabled",
                new OpsScope([controllerOf[key]]), cancellationToken); // the transfer's controller, not all of the user's
        }

        var left = wanted.Count - replayed.Count;
        var message = $"{replayed.Count} transfer(s) replayed: each is decided again as of now, then sent."
                      + (left > 0 ? $" {left} not: being tried at this moment, delivered meanwhile, or their recipient's route is disabled (enable it first)." : "")
                      + (refused > 0 ? $" {refused} not found among your controllers' parked transfers." : "");
        TempData["Message"] = message;
        return LocalRedirect(back);
    }
}
