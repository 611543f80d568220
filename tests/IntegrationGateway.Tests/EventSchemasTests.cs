using System.Text.Json;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;

namespace IntegrationGateway.Tests;

/// <summary>The schema and sample files for publishers stay true to the contracts.</summary>
public class EventSchemasTests
{
    static string Contracts(string folder) => Path.Combine(RepoPaths.Root, "src", "Contracts", folder);

    public static TheoryData<string> Types => new(EventSchemas.EventTypes);

    [Theory]
    [MemberData(nameof(Types))]
    public void SchemaFile_IsWhatTheContractGenerates(string type)
    {
        var file = Path.Combine(Contracts("schemas"), $"{type}.schema.json");

        Assert.True(File.Exists(file), $"{file} is missing; run: dotnet run --project src/Gateway -- events schema --type all --out src/Contracts/schemas");
        Assert.True(File.ReadAllText(file) == EventSchemas.For(type), $"{file} differs from the contract; regenerate it: dotnet run --project src/Gateway -- events schema --type all --out src/Contracts/schemas");
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void SampleFile_IsAcceptedByTheIntakeAndReadsIntoTheContract(string type)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Contracts("samples"), $"{type}.json"));

        Assert.Empty(new EventValidator(TimeProvider.System).Validate(type, bytes));
        Assert.NotNull(JsonSerializer.Deserialize(bytes, EventJson.ContractType(type), EventJsonContext.Default));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Schema_SaysEveryObjectAcceptsUndeclaredMembers_AsTheIntakeDoes(string type)
    {
        using var schema = JsonDocument.Parse(EventSchemas.For(type));
        var objects = 0;
        void Walk(JsonElement node, string at)
        {
            if (node.ValueKind == JsonValueKind.Object)
            {
                if (node.TryGetProperty("properties", out _))
                {
                    objects++;
                    Assert.True(node.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.True, $"{type}: {at} does not say additionalProperties: true");
                }

                foreach (var p in node.EnumerateObject())
                {
                    Walk(p.Value, $"{at}/{p.Name}");
                }
            }
            else if (node.ValueKind == JsonValueKind.Array)
            {
                foreach (var e in node.EnumerateArray())
                {
                    Walk(e, at + "/[]");
                }
            }
        }

        Walk(schema.RootElement, "#");
        Assert.True(objects >= 3, $"{type}: only {objects} object schemas found");
        Assert.Equal(EventSchemas.UndeclaredMembers, schema.RootElement.GetProperty("$comment").GetString());
    }

    [Fact]
    public void Schema_MarksRequiredFieldsAndFormats()
    {
        using var schema = JsonDocument.Parse(EventSchemas.For("AbsenceReported"));
        var root = schema.RootElement;

        Assert.Contains("eventId", root.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("uuid", root.GetProperty("properties").GetProperty("eventId").GetProperty("format").GetString());
        Assert.Equal("date", root.GetProperty("properties").GetProperty("absence").GetProperty("properties").GetProperty("from").GetProperty("format").GetString());
        Assert.StartsWith("Unique id of this event", root.GetProperty("properties").GetProperty("eventId").GetProperty("description").GetString());
    }
}
