using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntegrationGateway.Gateway.Ops.Pages;

/// <summary>
/// What staff did (sign-ins, subject-report views, replays, route changes, command-line verbs), newest first, a page
/// of <see cref="PageSize"/> at a time, optionally of one action; each user sees the rows of their own controllers.
/// </summary>
[Authorize(Policy = OpsPolicies.Audit)]
public sealed class AuditModel(OpsAudit audit) : PageModel
{
    public const int PageSize = 100;

    public IReadOnlyList<OpsAuditEntry> Entries { get; private set; } = [];

    /// <summary>The action shown (one of <see cref="OpsAudit.Actions"/>), or null for all.</summary>
    public string? Action { get; private set; }

    /// <summary>1 for the newest rows.</summary>
    public int PageNumber { get; private set; } = 1;

    public bool HasNext { get; private set; }

    public static IReadOnlyList<string> KnownActions { get; } = typeof(OpsAudit.Actions).GetFields().Select(f => (string)f.GetRawConstantValue()!).ToList();

    public async Task OnGetAsync(string? action, int? page, CancellationToken cancellationToken)
    {
        Action = action is not null && KnownActions.Contains(action) ? action : null;
        PageNumber = Math.Clamp(page ?? 1, 1, 10_000);
        var rows = await audit.LatestAsync(PageSize + 1, OpsScope.Of(User), cancellationToken, Action, (PageNumber - 1) * PageSize);
        HasNext = rows.Count > PageSize;
        Entries = rows.Take(PageSize).ToList();
    }
}
