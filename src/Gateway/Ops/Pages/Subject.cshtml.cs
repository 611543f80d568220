using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Subjects;
using IntegrationGateway.Gateway.Policy;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace IntegrationGateway.Gateway.Ops.Pages;

/// <summary>
/// The subject report for the data-protection officer. The identifier comes in a form post (never in an address,
/// which proxies and logs keep), is turned into a pseudonym at once, and only the pseudonym is recorded.
/// </summary>
[Authorize(Policy = OpsPolicies.SubjectReports)]
public sealed class SubjectModel(NpgsqlDataSource database, LedgerKeys keys, OpsAudit audit) : PageModel
{
    public IReadOnlyList<SubjectTransfer>? Transfers { get; private set; }
    public string? Problem { get; private set; }

    public void OnGet()
    {
    }

    public async Task OnPostAsync(string? id, string? institution, string? localId, CancellationToken cancellationToken)
    {
        var key = id is { Length: > 0 } ? SubjectKey.ForIdentifier(id)
            : institution is { Length: > 0 } && localId is { Length: > 0 } && institution.Length <= 50 && localId.Length <= 100 ? SubjectKey.For(null, null, institution.Trim(), localId.Trim())
            : null;
        if (key is null)
        {
            Problem = "Give a BSN (9 digits) or a rijksregisternummer (11 digits), or an institution with its own number for the person.";
            return;
        }

        var pseudonym = keys.PseudonymOf(key);
        // The DPO of a controller answers for that controller's transfers; the platform's DPO for all.
        var scope = OpsScope.Of(User);
        Transfers = await SubjectReport.ForAsync(database, scope.Controllers, [pseudonym], cancellationToken);
        var target = "pseudonym " + Convert.ToHexStringLower(pseudonym)[..16];
        if (scope.Controllers is not { } controllers)
        {
            await audit.RecordAsync(User.Identity!.Name!, OpsAudit.Actions.SubjectReportViewed, target, $"{key.Split(':')[0]}; {Transfers.Count} transfer(s)", scope, cancellationToken);
            return;
        }

        // One row per controller, with that controller's count, readable by that controller's staff: a user of two
        // controllers does not show one's count to the other's.
        foreach (var controller in controllers)
        {
            await audit.RecordAsync(User.Identity!.Name!, OpsAudit.Actions.SubjectReportViewed, target,
                $"{key.Split(':')[0]}; {Transfers.Count(t => t.Controller == controller)} transfer(s) of {controller}", new OpsScope([controller]), cancellationToken);
        }
    }
}
