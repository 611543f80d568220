using System.Text.Json.Nodes;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Subjects;

namespace IntegrationGateway.AgencySimulator;

/// <summary>
/// Checks a received record against the allow-list of the agreement it names, read from the same agreement files
/// the gateway uses (<c>Agreements:Directory</c>), leaf by leaf: every leaf the record carries must be a leaf the
/// event's contract declares (by the catalogue of the contracts, not the gateway's projection) and one the agreement
/// allows. A member a publisher added inside an object the agreement allows whole is outside: prefixes do not count.
/// </summary>
public sealed class AllowListCheck(IConfiguration configuration)
{
    readonly Lazy<IReadOnlyDictionary<string, Agreement>> _agreements = new(() =>
        configuration["Agreements:Directory"] is { Length: > 0 } directory && Directory.Exists(directory)
            ? AgreementLoader.LoadDirectory(directory).Agreements.ToDictionary(a => a.Id)
            : new Dictionary<string, Agreement>());

    /// <summary>The record's field paths the agreement does not allow (all of them when the agreement is unknown); empty when none.</summary>
    public IReadOnlyList<string> FieldsOutside(JsonNode? body)
    {
        var record = body?["record"];
        var leaves = Leaves(record, "").ToList();
        if (_agreements.Value.Count == 0)
        {
            return []; // no agreements configured: nothing to check against
        }

        if (body?["agreement"]?.GetValue<string>() is not { } id || !_agreements.Value.TryGetValue(id, out var agreement))
        {
            return leaves.Count == 0 ? ["(unknown agreement)"] : leaves;
        }

        // A notice (rectification, erasure) also names its own date and changed fields: facts of the notice, not of the person.
        var eventType = body["eventType"]?.GetValue<string>() ?? "";
        var allowed = agreement.Fields.Paths.Concat(SubjectNotices.OwnFields(eventType)).ToList();
        return leaves.Where(p => EventCatalogue.Default.Field(eventType, p) is not { IsLeaf: true } || !allowed.Any(a => EventCatalogue.Covers(a, p))).ToList();
    }

    static IEnumerable<string> Leaves(JsonNode? node, string prefix) => node switch
    {
        JsonObject o => o.SelectMany(p => Leaves(p.Value, prefix.Length == 0 ? p.Key : $"{prefix}.{p.Key}")),
        JsonArray a => a.SelectMany(e => Leaves(e, prefix + "[]")),
        _ => prefix.Length == 0 ? [] : [prefix],
    };
}
