using IntegrationGateway.Gateway.Policy;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using IntegrationGateway.Contracts;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>The event contracts' JSON shape (camelCase, nulls omitted), source-generated.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AbsenceReported))]
internal sealed partial class EventJsonContext : JsonSerializerContext;

internal static class EventJson
{
    /// <summary>The event as the JSON tree the policy engine projects from.</summary>
    public static JsonObject ToJsonObject<T>(T message)
        where T : class =>
        JsonSerializer.SerializeToNode(message, typeof(T), EventJsonContext.Default) as JsonObject
        ?? throw new InvalidOperationException($"{typeof(T).Name} did not serialise to a JSON object.");

    public static EventFacts FactsOf(string eventType, JsonObject body) => new(
        eventType,
        body["jurisdiction"]?.GetValue<string>() ?? "",
        body["source"]?["institutionId"]?.GetValue<string>() ?? "");
}
