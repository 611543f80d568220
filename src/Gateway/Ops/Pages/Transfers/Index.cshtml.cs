using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IntegrationGateway.Gateway.Ops.Pages;

/// <summary>The transfers list: filter by recipient, outcome, event type, agreement and time; newest first, 50 a page.</summary>
[Authorize(Policy = OpsPolicies.Flow)]
public sealed class TransfersModel(OpsQueries queries, Policy.PolicyEngine engine) : PageModel
{
    public static readonly IReadOnlyList<string> Outcomes = ["delivered", "blocked", "parked", "rejected", "held"];

    public TransferFilter Filter { get; private set; } = new(null, null, null, null, null, null, null);
    public IReadOnlyList<TransferRow> Rows { get; private set; } = [];
    public IReadOnlyList<string> EventTypes { get; private set; } = [];
    public IReadOnlyList<string> Agreements { get; private set; } = [];
    public IReadOnlyList<string> Recipients { get; private set; } = [];
    public string? FromText { get; private set; }
    public string? UntilText { get; private set; }
    public string OlderLink { get; private set; } = "";

    /// <summary>This page again, marked as its own refresh (which does not keep a sign-in alive).</summary>
    public string RefreshLink { get; private set; } = "/ops/transfers?auto=1";

    public async Task OnGetAsync(string? recipient, string? outcome, string? eventType, string? agreement, string? from, string? until, long? before, CancellationToken cancellationToken)
    {
        FromText = from;
        UntilText = until;
        Filter = new TransferFilter(recipient, outcome, eventType, agreement, Parse(from), Parse(until), before);
        Rows = await queries.TransfersAsync(Filter, OpsScope.Of(User), cancellationToken);
        // What the filters offer comes from the configuration, not from a scan of the ledger.
        EventTypes = [.. Policy.EventCatalogue.Default.Types.Keys.Order(StringComparer.Ordinal)];
        Agreements = [.. engine.Agreements.Select(a => a.Id).Order(StringComparer.Ordinal)];
        Recipients = [.. engine.Agreements.Select(a => a.Recipient).Distinct().Order(StringComparer.Ordinal)];
        RefreshLink = "/ops/transfers?" + string.Join("&", Request.Query.Where(q => q.Key != "auto")
            .Select(q => $"{q.Key}={Uri.EscapeDataString(q.Value.ToString())}").Append("auto=1"));
        if (Rows.Count > 0)
        {
            var query = Request.Query.Where(q => q.Key is not ("before" or "auto")).Select(q => $"{q.Key}={Uri.EscapeDataString(q.Value.ToString())}")
                .Append($"before={Rows[^1].Seq.ToString(CultureInfo.InvariantCulture)}");
            OlderLink = "/ops/transfers?" + string.Join("&", query);
        }
    }

    /// <summary>A datetime-local value, taken as UTC; anything else is no filter.</summary>
    static DateTimeOffset? Parse(string? text) =>
        DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? new DateTimeOffset(at, TimeSpan.Zero)
            : null;
}
