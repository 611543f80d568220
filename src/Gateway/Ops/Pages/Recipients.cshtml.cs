using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntegrationGateway.Gateway.Ops.Pages;

/// <summary>Per recipient: its route, circuit, last success, error rate over the last day, and what waits for it.</summary>
[Authorize(Policy = OpsPolicies.Flow)]
public sealed class RecipientsModel(RecipientAdapters adapters, RecipientResilience resilience, RecipientRoutes routes, OpsQueries queries) : PageModel
{
    public sealed record Row(string Recipient, bool Disabled, string Circuit, RecipientActivity? Activity, long Waiting, long Rejected, long Held);

    public IReadOnlyList<Row> Rows { get; private set; } = [];
    public string? Message { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Message = TempData["Message"] as string;
        var disabled = await routes.DisabledAsync(cancellationToken);
        // A recipient's route and circuit are the platform's; its counts, only those of the reader's controllers.
        var scope = OpsScope.Of(User);
        var counts = await queries.ParkedCountsAsync(scope, cancellationToken);
        var activity = await queries.RecipientActivityAsync(scope, cancellationToken);
        long Count(string recipient, string state) => counts.Where(c => c.Recipient == recipient && c.State == state).Sum(c => c.Count);
        Rows = [.. adapters.Recipients.Order(StringComparer.Ordinal).Select(r => new Row(
            r, disabled.Contains(r), resilience.CircuitOf(r)?.ToString() ?? "Closed", activity.GetValueOrDefault(r),
            Count(r, ParkedState.Waiting), Count(r, ParkedState.Rejected), Count(r, ParkedState.RecipientDisabled)))];
    }
}
