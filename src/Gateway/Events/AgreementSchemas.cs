using System.Text.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.Gateway.Policy;
using Json.Schema;

namespace IntegrationGateway.Gateway.Events;

/// <summary>
/// What a recipient receives under an agreement, as a JSON Schema (draft 2020-12) per event type: the envelope
/// (<c>agreement</c>, <c>agreementHash</c> where the format has it, <c>eventType</c>, <c>record</c>) and in the record exactly the contract's members the allow-list
/// admits, every object closed (<c>additionalProperties: false</c>). A recipient can check each transfer against it;
/// the demo checks every receipt the agency simulator recorded. Cut from the contract's own schema
/// (<see cref="EventSchemas.For"/>), so types, formats and descriptions are the contract's.
/// </summary>
public static class AgreementSchemas
{
    public static string FileName(Agreement agreement, string eventType) => $"{agreement.Id}.{eventType}.schema.json";

    public static JsonObject For(Agreement agreement, string eventType)
    {
        var contract = JsonNode.Parse(EventSchemas.For(eventType))!.AsObject();
        // Two conditions on one path that disagree route nothing; the schema takes the first (the engine needs both to hold).
        var only = agreement.When.Where(c => c.EqualsValue is not null).GroupBy(c => c.Path, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().EqualsValue!, StringComparer.Ordinal);
        var record = Cut(contract, "", agreement.Fields.Paths, only);
        record.Remove("$schema");
        record.Remove("$id");
        record.Remove("$comment");
        record.Remove("title");
        if (record["properties"]?[FieldSelection.EventIdMember] is JsonObject eventId)
        {
            // The value is not the event's id at its source (FieldSelection.Project): say what the recipient gets.
            eventId["description"] = $"{agreement.Recipient}'s own reference for this event (a UUID): the same on every retry and replay of the "
                + "transfer, different at every other recipient, and not the id the event has at its source.";
        }

        return new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$id"] = $"urn:integration-gateway:agreement:{agreement.Id}:{agreement.Version}:{eventType}",
            ["title"] = $"{agreement.Title}: {eventType}",
            ["$comment"] = $"What {agreement.Recipient} receives under agreement {agreement.Id} version {agreement.Version}: only the fields it allows; "
                + "a field the event lacks, or holds as null, is absent.",
            ["type"] = "object",
            ["properties"] = new JsonObject
            {
                ["agreement"] = new JsonObject { ["const"] = agreement.Id },
                // The JSON envelope names the approved text it was sent under; a recipient's own format may not.
                ["agreementHash"] = new JsonObject { ["const"] = agreement.Hash, ["description"] = "The hash of the approved agreement text the record was sent under (policy history names it)." },
                ["eventType"] = new JsonObject { ["const"] = eventType },
                ["record"] = record,
            },
            ["required"] = new JsonArray("agreement", "eventType", "record"),
            ["additionalProperties"] = false,
        };
    }

    /// <summary>A compiled schema per (agreement, event type), for checking many records.</summary>
    public static Func<JsonElement, IReadOnlyList<string>> Validator(Agreement agreement, string eventType)
    {
        var text = For(agreement, eventType);
        text.Remove("$id"); // the validator's registry takes each $id once per process: this one is for reading and checking only
        var schema = JsonSchema.FromText(text.ToJsonString());
        return body =>
        {
            var result = schema.Evaluate(body, new EvaluationOptions { OutputFormat = OutputFormat.List });
            return result.IsValid ? [] : [.. (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).Distinct()];
        };
    }

    /// <summary>
    /// The contract's schema node at <paramref name="path"/> with only the members the allow-list admits: a member
    /// listed (or inside one listed) whole, a member on the way to a listed one with only what leads there; a value the
    /// agreement's <c>when</c> fixes (<paramref name="only"/>) as its <c>const</c>.
    /// </summary>
    static JsonObject Cut(JsonObject node, string path, IReadOnlyList<string> allowed, IReadOnlyDictionary<string, string> only)
    {
        var cut = new JsonObject();
        foreach (var (key, value) in node)
        {
            if (key is "properties" or "required" or "additionalProperties" or "items")
            {
                continue;
            }

            cut[key] = value?.DeepClone();
        }

        if (only.TryGetValue(path, out var fixedValue))
        {
            cut["const"] = fixedValue; // the agreement routes only events with this value here ('when')
        }

        if (node["items"] is JsonObject items)
        {
            cut["items"] = Cut(items, path + "[]", allowed, only);
        }

        if (node["properties"] is JsonObject properties)
        {
            var kept = new JsonObject();
            foreach (var (name, member) in properties)
            {
                var memberPath = path.Length == 0 ? name : $"{path}.{name}";
                var asArray = memberPath + "[]";
                if (member is JsonObject schema && allowed.Any(a => Leads(a, memberPath) || Leads(a, asArray)))
                {
                    kept[name] = Cut(schema, memberPath, allowed, only);
                }
            }

            cut["properties"] = kept;
            cut["additionalProperties"] = false;
        }

        return cut;
    }

    /// <summary>Whether allow-list path <paramref name="allowed"/> takes in <paramref name="path"/> or something below it.</summary>
    static bool Leads(string allowed, string path) => EventCatalogue.Covers(allowed, path) || EventCatalogue.Covers(path, allowed);
}
