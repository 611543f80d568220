using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;

namespace IntegrationGateway.Tests;

/// <summary>How the intake reads what publishers send: raw JSON or MassTransit's envelope, and the type from where it is named.</summary>
public class IntakeReaderTests
{
    static readonly IntakeReader Reader = new(new EventValidator(TimeProvider.System));

    static JsonObject Sample(string type = "AbsenceReported", int seed = 5) =>
        JsonSerializer.SerializeToNode(new SampleEventGenerator(seed, TimeProvider.System).Next(type), EventJson.ContractType(type), EventJsonContext.Default)!.AsObject();

    /// <summary>An envelope as MassTransit 8 writes it: decimals as strings, the record under <c>message</c>.</summary>
    static byte[] Envelope(JsonObject message, params string[] urns) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["messageId"] = Guid.NewGuid().ToString(),
        ["messageType"] = new JsonArray([.. urns.Select(u => (JsonNode)u)]),
        ["message"] = message,
        ["headers"] = new JsonObject(),
    }.ToJsonString());

    static IntakeVerdict Read(byte[] body, string? contentType = "application/json", string? type = null, string? exchange = "it.intake") =>
        Reader.Read(new IntakeMessage(body, contentType, type, exchange));

    static byte[] Bytes(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());

    [Theory]
    [InlineData("AbsenceReported")]
    [InlineData("urn:message:IntegrationGateway.Contracts:AbsenceReported")]
    public void RawJson_TypeInTheTypeProperty_IsAccepted(string type)
    {
        var sample = Sample();
        using var verdict = Read(Bytes(sample), type: type);

        Assert.True(verdict.Accepted, string.Join("; ", verdict.Violations));
        Assert.Equal("AbsenceReported", verdict.EventType);
        Assert.Equal(Guid.Parse(sample["eventId"]!.GetValue<string>()), verdict.EventId);
    }

    [Fact]
    public void RawJson_PublishedToTheContractExchange_TakesTheTypeFromIt()
    {
        using var verdict = Read(Bytes(Sample()), exchange: "IntegrationGateway.Contracts:AbsenceReported");

        Assert.True(verdict.Accepted, string.Join("; ", verdict.Violations));
        Assert.Equal("AbsenceReported", verdict.EventType);
    }

    [Fact]
    public void MassTransitEnvelope_WithDecimalsAsStrings_IsAcceptedWithNumbers()
    {
        var message = Sample();
        message["absence"]!["hours"] = "14.5"; // MassTransit's StringDecimalJsonConverter
        using var verdict = Read(Envelope(message, "urn:message:IntegrationGateway.Contracts:AbsenceReported"), IntakeReader.MassTransitContentType);

        Assert.True(verdict.Accepted, string.Join("; ", verdict.Violations));
        Assert.Equal("AbsenceReported", verdict.EventType);
        var hours = verdict.Event.GetProperty("absence").GetProperty("hours");
        Assert.Equal(JsonValueKind.Number, hours.ValueKind);
        Assert.Equal(14.5m, hours.GetDecimal());
        Assert.Equal(message["eventId"]!.GetValue<string>(), verdict.Event.GetProperty("eventId").GetString());
    }

    [Fact]
    public void RawJson_DecimalAsString_IsRefused_OnlyMassTransitsEnvelopeGetsThatLeniency()
    {
        var message = Sample();
        message["absence"]!["hours"] = "14.5";
        using var verdict = Read(Bytes(message), type: "AbsenceReported");

        Assert.Equal([new Violation("absence.hours", "type")], verdict.Violations);
    }

    public static TheoryData<string, Func<byte[]>, string?, string?, string, string> Refusals => new()
    {
        { "no type anywhere", () => Bytes(Sample()), "application/json", null, "$", "missing-type" },
        { "no content type, no type", () => Bytes(Sample()), null, null, "$", "missing-type" },
        { "unknown type", () => Bytes(Sample()), "application/json", "StudentExpelled", "$", "unknown-type" },
        { "type names another namespace", () => Bytes(Sample()), "application/json", "urn:message:Other:AbsenceReported", "$", "unknown-type" },
        { "not JSON", () => "bsn=123456782"u8.ToArray(), "application/json", "AbsenceReported", "$", "json" },
        { "truncated", () => Bytes(Sample())[..100], "application/json", "AbsenceReported", "$", "json" },
        { "invalid UTF-8", () => [.. "{\"eventId\":\""u8, 0xC3, 0x28, .. "\"}"u8], "application/json", "AbsenceReported", "$", "json" },
        { "too deep", () => Encoding.UTF8.GetBytes(new string('[', 200) + new string(']', 200)), "application/json", "AbsenceReported", "$", "json" },
        { "too large", () => Encoding.UTF8.GetBytes($"{{\"remark\":\"{new string('x', EventValidator.DefaultMaxBytes)}\"}}"), "application/json", "AbsenceReported", "$", "size" },
        { "envelope without message", () => "{\"messageType\":[\"urn:message:IntegrationGateway.Contracts:AbsenceReported\"]}"u8.ToArray(), IntakeReader.MassTransitContentType, null, "message", "envelope" },
        { "envelope of an unknown type", () => Envelope(Sample(), "urn:message:Acme:Thing"), IntakeReader.MassTransitContentType, null, "messageType", "unknown-type" },
        { "envelope without messageType", () => Envelope(Sample()), IntakeReader.MassTransitContentType, null, "messageType", "missing-type" },
        { "envelope and type property disagree", () => Envelope(Sample(), "urn:message:IntegrationGateway.Contracts:AbsenceReported"), IntakeReader.MassTransitContentType, "StudentEnrolled", "messageType", "type-conflict" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Read_BadMessage_IsRefusedWithPathAndRule(string because, Func<byte[]> body, string? contentType, string? type, string path, string rule)
    {
        using var verdict = Read(body(), contentType, type);

        Assert.False(verdict.Accepted, because);
        Assert.Equal(new Violation(path, rule), verdict.Violations[0]);
    }

    [Theory]
    [InlineData("eventId")]
    [InlineData("jurisdiction")]
    [InlineData("subject.familyName")]
    [InlineData("property name")]
    public void Read_LoneSurrogateEscape_IsRefusedAsJson_NeverThrows(string where)
    {
        // JSON allows "\uD800" syntactically; reading it as a string throws. It must end in quarantine, not loop.
        var text = Sample().ToJsonString();
        text = where switch
        {
            "property name" => text.Replace("\"absence\":{", "\"absence\":{\"x\\uD800\":1,", StringComparison.Ordinal),
            "subject.familyName" => System.Text.RegularExpressions.Regex.Replace(text, "\"familyName\":\"[^\"]*\"", "\"familyName\":\"a\\uDC00b\""),
            _ => System.Text.RegularExpressions.Regex.Replace(text, $"\"{where}\":\"[^\"]*\"", $"\"{where}\":\"\\uD800\""),
        };
        Assert.Contains("\\u", text);

        using var verdict = Read(Encoding.UTF8.GetBytes(text), type: "AbsenceReported");

        Assert.Equal([new Violation("$", "json")], verdict.Violations);
        Assert.Null(verdict.EventId);
        Assert.Equal([new Violation("$", "json")], new EventValidator(TimeProvider.System).Validate("AbsenceReported", Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void Read_TypePropertyAndContractExchangeDisagree_IsATypeConflict()
    {
        using var verdict = Read(Bytes(Sample()), type: "StudentEnrolled", exchange: "IntegrationGateway.Contracts:AbsenceReported");

        Assert.Equal([new Violation("$", "type-conflict")], verdict.Violations);
    }

    [Fact]
    public void Read_InvalidEvent_NamesTheFieldAndRule_AndKeepsTheEventIdForTheQuarantineHeader()
    {
        var message = Sample();
        message["subject"]!["bsn"] = "123456789"; // fails the eleven-test
        using var verdict = Read(Bytes(message), type: "AbsenceReported");

        Assert.Equal([new Violation("subject.bsn", "bsn-checksum")], verdict.Violations);
        Assert.Equal(Guid.Parse(message["eventId"]!.GetValue<string>()), verdict.EventId);
    }
}
