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
