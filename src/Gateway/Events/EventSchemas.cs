using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Xml.Linq;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Gateway.Events;

/// <summary>
/// A JSON Schema per event contract for publishers that are not .NET, generated from the contracts themselves with
/// their XML documentation as descriptions. The files in <c>src/Contracts/schemas</c> are this output; a test keeps
/// them equal to it.
/// </summary>
public static class EventSchemas
{
    /// <summary>The intake's stance on members a contract does not declare, as every schema states it.</summary>
    public const string UndeclaredMembers =
        "Members this schema does not declare are accepted (additionalProperties: true, at every depth) and never transferred: "
        + "the gateway's projection admits only the contract's own leaves, even inside an object an agreement allows whole, "
        + "and the ledger lists them as withheld.";

    public static string For(string eventType)
    {
        var docs = Documentation();
        var schema = JsonSchemaExporter.GetJsonSchemaAsNode(
            EventJsonContext.Default.Options,
            EventJson.ContractType(eventType),
            new JsonSchemaExporterOptions
            {
                TreatNullObliviousAsNonNullable = true,
                TransformSchemaNode = (context, node) =>
                {
                    var member = context.PropertyInfo?.AttributeProvider as System.Reflection.MemberInfo
                        ?? (context.PropertyInfo is null ? context.TypeInfo.Type : null);
                    if (node is JsonObject obj && member is not null && docs.TryGetValue(DocId(member), out var summary))
                    {
                        obj.Insert(0, "description", summary);
                    }

                    if (node is JsonObject withProperties && withProperties.ContainsKey("properties"))
                    {
                        // Said outright, for what the gateway does with them: accepted, withheld from every recipient.
                        withProperties["additionalProperties"] = true;
                    }

                    return node;
                },
            });
        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = $"urn:integration-gateway:event:{eventType}",
            ["title"] = eventType,
            ["$comment"] = UndeclaredMembers,
        };
        foreach (var (key, value) in schema.AsObject().ToList())
        {
            schema.AsObject().Remove(key);
            root[key] = value;
        }

        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    static string DocId(System.Reflection.MemberInfo member) => member switch
    {
        Type type => "T:" + type.FullName,
        _ => $"P:{member.DeclaringType!.FullName}.{member.Name}",
    };

    /// <summary>Summaries from the contracts' XML documentation file, by member id.</summary>
    static Dictionary<string, string> Documentation()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "IntegrationGateway.Contracts.xml");
        if (!File.Exists(file))
        {
            return [];
        }

        return XDocument.Load(file).Descendants("member")
            .Where(m => m.Element("summary") is not null)
            .ToDictionary(
                m => (string)m.Attribute("name")!,
                m => string.Join(' ', string.Concat(m.Element("summary")!.Nodes().Select(n => n is XElement e ? (string?)e.Attribute("cref")?.Value.Split('.')[^1] ?? e.Value : n.ToString()))
                    .Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries)));
    }

    public static IEnumerable<string> EventTypes => EventCatalogue.Default.Types.Keys.Order(StringComparer.Ordinal);
}
