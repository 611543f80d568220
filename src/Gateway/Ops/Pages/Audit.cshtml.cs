using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntegrationGateway.Gateway.Ops.Pages;

/// <summary>The latest 200 things staff did: sign-ins, subject-report views, replays, route changes.</summary>
[Authorize(Policy = OpsPolicies.Changes)]
public sealed class AuditModel(OpsAudit audit) : PageModel
{
    public IReadOnlyList<OpsAuditEntry> Entries { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => Entries = await audit.LatestAsync(200, OpsScope.Of(User), cancellationToken);
}
