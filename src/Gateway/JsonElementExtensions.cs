using System.Text.Json;

namespace IntegrationGateway.Gateway;

internal static class JsonElementExtensions
{
    /// <summary>The named property's text when the element is an object and the property a string; otherwise null.</summary>
    public static string? StringProperty(this JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
