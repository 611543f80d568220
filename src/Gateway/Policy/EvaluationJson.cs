using System.Text;
using System.Text.Json;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// The output of <c>policy evaluate</c>: per routed agreement the outcome, the reasons, the legal basis, which leaf
/// paths of the event are disclosed and which withheld (together: every leaf), and on allow the payload itself.
/// </summary>
public static class EvaluationJson
{
    public static string Write(string eventType, JsonElement body, DateTimeOffset evaluatedAt, IReadOnlyList<PolicyDecision> decisions)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("eventId", out var eventId) && eventId.ValueKind == JsonValueKind.String)
            {
                json.WriteString("eventId", eventId.GetString());
            }
            else
            {
                json.WriteNull("eventId");
            }

            json.WriteString("eventType", eventType);
            json.WriteString("evaluatedAt", evaluatedAt.ToUniversalTime());
            json.WriteStartArray("decisions");
            foreach (var decision in decisions)
            {
                var disclosed = new SortedSet<string>(StringComparer.Ordinal);
                var withheld = new SortedSet<string>(StringComparer.Ordinal);
                decision.Classify(eventType, body, disclosed, withheld);

                json.WriteStartObject();
                json.WriteString("agreement", decision.Agreement.Id);
                json.WriteString("recipient", decision.Agreement.Recipient);
                json.WriteString("outcome", decision.Allowed ? "allow" : "deny");
                WriteStrings(json, "reasons", decision.Reasons);
                json.WriteStartObject("legalBasis");
                json.WriteString("gdpr", decision.Agreement.LegalBasis.Gdpr);
                json.WriteString("instrument", decision.Agreement.LegalBasis.Instrument.ToString());
                if (decision.Agreement.LegalBasis.Art9Ground is { } art9)
                {
                    json.WriteString("art9", art9);
                }

                json.WriteEndObject();
                WriteStrings(json, "disclosed", disclosed);
                WriteStrings(json, "withheld", withheld);
                if (decision.Payload is { } payload)
                {
                    json.WritePropertyName("payload");
                    json.WriteRawValue(payload, skipInputValidation: true);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }
}
