using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntegrationGateway.Gateway.Ops.Pages;

[Authorize(Policy = OpsPolicies.Flow)]
public sealed class ParkedModel(OpsQueries queries) : PageModel
{
    public IReadOnlyList<ParkedRow> Rows { get; private set; } = [];
    public string? Recipient { get; private set; }
    public string? State { get; private set; }
    public string? Message { get; private set; }

    public async Task OnGetAsync(string? recipient, string? state, CancellationToken cancellationToken)
    {
        (Recipient, State, Message) = (recipient, state, TempData["Message"] as string);
        Rows = await queries.ParkedAsync(recipient, state, OpsScope.Of(User), cancellationToken);
    }
}
