using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Tests;

public class EventValidatorTests
{
    static readonly EventValidator Validator = new(TimeProvider.System);

    static JsonObject Sample(string type = "AbsenceReported", int seed = 3) =>
        JsonSerializer.SerializeToNode(new SampleEventGenerator(seed, TimeProvider.System).Next(type), EventJson.ContractType(type), EventJsonContext.Default)!.AsObject();

    static IReadOnlyList<Violation> Validate(JsonNode node, string type = "AbsenceReported") => Validator.Validate(type, Encoding.UTF8.GetBytes(node.ToJsonString()));

    public static TheoryData<string> Types => new(SampleEventGenerator.EventTypes);

    [Theory]
    [MemberData(nameof(Types))]
    public void Validate_GeneratedEventOfEveryType_IsValid(string type)
    {
        for (var seed = 0; seed < 50; seed++)
        {
            Assert.Empty(Validate(Sample(type, seed), type));
        }
    }

    /// <summary>Each rule: a change that breaks it, the path and rule it must be reported as.</summary>
    public static TheoryData<string, Action<JsonObject>, string, string> Breaks => new()
    {
        { "required", e => e.Remove("eventId"), "eventId", "required" },
        { "required nested", e => e["absence"]!.AsObject().Remove("from"), "absence.from", "required" },
        { "required null", e => e["subject"]!["localId"] = null, "subject.localId", "required" },
        { "type", e => e["absence"]!["hours"] = "eight", "absence.hours", "type" },
        { "type object", e => e["subject"] = "Emma", "subject", "type" },
        { "type array", e => e["guardians"] = new JsonObject(), "guardians", "type" },
        { "uuid", e => e["eventId"] = "not-a-uuid", "eventId", "format-uuid" },
        { "date", e => e["absence"]!["from"] = "02-11-2026", "absence.from", "format-date" },
        { "timestamp without zone", e => e["occurredAt"] = "2026-11-20T10:00:00", "occurredAt", "format-timestamp" },
        { "email", e => e["subject"]!["email"] = "leerling.example.nl", "subject.email", "format-email" },
        { "guardian email", e => e["guardians"]![0]!["email"] = "ouder@", "guardians[].email", "format-email" },
        { "postal code NL", e => e["subject"]!["address"]!["postalCode"] = "3511", "subject.address.postalCode", "format-postal-code" },
        { "jurisdiction", e => e["jurisdiction"] = "FR", "jurisdiction", "jurisdiction" },
        { "bsn", e => e["subject"]!["bsn"] = "123456789", "subject.bsn", "bsn-checksum" },
        { "bsn length", e => e["subject"]!["bsn"] = "12345678", "subject.bsn", "bsn-checksum" },
        { "brin", e => e["source"]!["institutionId"] = "12AB3", "source.institutionId", "institution-id" },
        { "birth in the future", e => e["subject"]!["birthDate"] = "2999-01-01", "subject.birthDate", "plausibility" },
        { "period ends before it starts", e => { e["absence"]!["from"] = "2026-11-10"; e["absence"]!["to"] = "2026-11-09"; }, "absence.to", "plausibility" },
        { "occurred in the future", e => e["occurredAt"] = "2999-01-01T00:00:00Z", "occurredAt", "plausibility" },
    };

    [Theory]
    [MemberData(nameof(Breaks))]
    public void Validate_BrokenRule_IsReportedWithPathAndRuleButNotTheValue(string name, Action<JsonObject> breakIt, string path, string rule)
    {
        var e = Sample();
        breakIt(e);

        var violations = Validate(e);

        Assert.True(violations.Contains(new Violation(path, rule)), $"{name}: got {string.Join("; ", violations)}");
        Assert.DoesNotContain(violations, v => v.ToString().Contains("Emma", StringComparison.Ordinal) || v.ToString().Contains("123456789", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("12345", false)]
    [InlineData("85.07.30-033.28", true)]  // born 1985
    [InlineData("85073003328", true)]
    [InlineData("85073003329", false)]
    [InlineData("17.07.30-033.84", true)]  // born 2017: the check is over 2 followed by the number
    [InlineData("17073003384", true)]
    public void Rijksregisternummer_ChecksBothCenturies(string value, bool valid) =>
        Assert.Equal(valid, SubjectIdentifiers.IsValidRijksregisternummer(value));

    [Fact]
    public void Validate_FlemishRules_PostalCodeInstitutionAndRijksregisternummer()
    {
        var e = Sample("IntegrationIntakeCompleted");
        e["subject"]!["address"]!["postalCode"] = "9000 AB";
        e["subject"]!["rijksregisternummer"] = "85073003329";
        e["source"]!["institutionId"] = "IN-GENT";
        e["intake"]!["residenceStatus"]!["from"] = "2026-01-01";
        e["intake"]!["residenceStatus"]!["until"] = "2025-01-01";

        var violations = Validate(e, "IntegrationIntakeCompleted");

        Assert.Contains(new Violation("subject.address.postalCode", "format-postal-code"), violations);
        Assert.Contains(new Violation("subject.rijksregisternummer", "rijksregisternummer-checksum"), violations);
        Assert.Contains(new Violation("source.institutionId", "institution-id"), violations);
        Assert.Contains(new Violation("intake.residenceStatus.until", "plausibility"), violations);
    }

    [Theory]
    [InlineData("""{"eventId": "8d7f5c52-1a3e-4d0e-9f55-3c1f6b0a2e11", "subject": {""", "json")]
    [InlineData("""{"a": 1} {"b": 2}""", "json")]
    [InlineData("""{"a": 1, "a": 2}""", "json")]
    [InlineData("""["not", "an", "object"]""", "type")]
    public void Validate_NotOneJsonObject_IsRefusedAsAWhole(string text, string rule) =>
        Assert.Equal([new Violation("$", rule)], Validator.Validate("AbsenceReported", Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void Validate_InvalidUtf8_IsRefused() =>
        Assert.Equal([new Violation("$", "json")], Validator.Validate("AbsenceReported", [(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}']));

    [Fact]
    public void Validate_DeepNesting_IsRefused()
    {
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100);

        Assert.Equal([new Violation("$", "json")], Validator.Validate("AbsenceReported", Encoding.UTF8.GetBytes(deep)));
    }

    [Fact]
    public void Validate_TooLarge_IsRefusedBeforeParsing() =>
        Assert.Equal([new Violation("$", "size")], new EventValidator(TimeProvider.System, maxBytes: 100).Validate("AbsenceReported", new byte[101]));

    [Fact]
    public void Validate_UnknownType_IsRefused() =>
        Assert.Equal([new Violation("$", "unknown-type")], Validator.Validate("PupilTeleported", "{}"u8));

    [Fact]
    public void Validate_ExtraFields_AreAllowed()
    {
        var e = Sample();
        e["vendorExtension"] = new JsonObject { ["x"] = 1 };

        Assert.Empty(Validate(e));
    }
}
