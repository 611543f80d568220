using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.Adapters;
using IntegrationGateway.Adapters.Clb;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Tests;

/// <summary>The CLB's CSV: what the adapter writes, the decoder beside it reads back, leaf for leaf.</summary>
public class ClbCsvTests
{
    static OutboundTransfer Transfer(string record) => new("e:clb-afwezigheden", Guid.NewGuid(), "AttendanceRegistered", "clb-afwezigheden", Encoding.UTF8.GetBytes(record));

    [Fact]
    public void ToBytes_OneHeaderRowAndOneValueRow_ColumnsNamedByPath_ListElementsByPosition()
    {
        var csv = Encoding.UTF8.GetString(ClbCsv.ToBytes(Transfer("""{"subject":{"givenName":"Amina"},"guardians":[{"phone":"+32470"},{"phone":"+32471"}],"attendance":{"hoursAbsentUnauthorised":3.5}}""")));

        Assert.Equal("agreement;eventType;subject.givenName;guardians[0].phone;guardians[1].phone;attendance.hoursAbsentUnauthorised\r\n"
            + "clb-afwezigheden;AttendanceRegistered;Amina;+32470;+32471;3.5\r\n", csv);
    }

    [Fact]
    public void ToBytes_ValuesWithSeparatorQuoteOrLineBreak_AreQuoted_NeverAltered()
    {
        var bytes = ClbCsv.ToBytes(Transfer("""{"subject":{"familyName":"De \"Smet\"; Van Dijk","localId":"a\r\nb"}}"""));

        Assert.Contains("\"De \"\"Smet\"\"; Van Dijk\";\"a\r\nb\"", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        var record = new ClbCsvDecoder().Decode(bytes)["record"]!;
        Assert.Equal("De \"Smet\"; Van Dijk", (string?)record["subject"]!["familyName"]);
        Assert.Equal("a\r\nb", (string?)record["subject"]!["localId"]);
    }

    [Fact]
    public void ToBytes_AListInsideAList_IsRefused()
    {
        Assert.Throws<FormatException>(() => ClbCsv.ToBytes(Transfer("""{"x":[[1]]}""")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("agreement;eventType\r\n")]
    [InlineData("a;b\r\nc;d\r\n")]
    [InlineData("agreement;eventType;x\r\nclb;AttendanceRegistered\r\n")]
    [InlineData("agreement;eventType\r\nclb;AttendanceRegistered")]
    [InlineData("agreement;eventType;x[\r\nclb;AttendanceRegistered;1\r\n")]
    [InlineData("agreement;eventType;a;a.b\r\nclb;AttendanceRegistered;1;2\r\n")]
    [InlineData("agreement;eventType;a.b;a\r\nclb;AttendanceRegistered;1;2\r\n")]
    [InlineData("agreement;eventType;a[0];a[0].b\r\nclb;AttendanceRegistered;1;2\r\n")]
    [InlineData("agreement;eventType;a;a\r\nclb;AttendanceRegistered;1;2\r\n")]
    [InlineData("agreement;eventType;a[100]\r\nclb;AttendanceRegistered;1\r\n")]
    [InlineData("agreement;eventType;a[-1]\r\nclb;AttendanceRegistered;1\r\n")]
    [InlineData("agreement;eventType;[0]\r\nclb;AttendanceRegistered;1\r\n")]
    public void Decode_WhatIsNotANotice_IsAFormatError(string body)
    {
        Assert.Throws<FormatException>(() => new ClbCsvDecoder().Decode(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public void RoundTrip_EveryAllowedTransferOfGeneratedEvents_DecodesToThePayloadsLeaves()
    {
        var engine = new PolicyEngine(TestAgreements.ShippedAsIfComplete().Where(a => a.Recipient == "clb").ToList());
        var generator = new SampleEventGenerator(21, TimeProvider.System);
        var checkedTransfers = 0;
        for (var i = 0; i < 300; i++)
        {
            using var document = JsonDocument.Parse(SampleEventGenerator.AsSloppyExport(generator.Next("AttendanceRegistered")).ToJsonString());
            var body = document.RootElement;
            foreach (var decision in engine.Evaluate(TestAgreements.ShippedFacts("AttendanceRegistered", body), body, SubjectState.Unknown, TimeProvider.System.GetUtcNow(), TestAgreements.References).Where(d => d.Allowed))
            {
                var transfer = Transfer(Encoding.UTF8.GetString(decision.Payload!));
                var decoded = new ClbCsvDecoder().Decode(ClbCsv.ToBytes(transfer));
                Assert.Equal("clb-afwezigheden", (string?)decoded["agreement"]);
                Assert.Equal(Leaves(JsonNode.Parse(decision.Payload!)), Leaves(decoded["record"]));
                checkedTransfers++;
            }
        }

        Assert.True(checkedTransfers > 50, $"only {checkedTransfers} CLB transfers among 300 events: the generator makes too few minors with unauthorised absence");
    }

    [Fact]
    public void Decoder_IsFoundBesideTheFormat_AndReadsOnlyCsv()
    {
        var decoder = typeof(IWireFormatDecoder).Assembly.GetExportedTypes().Where(t => typeof(IWireFormatDecoder).IsAssignableFrom(t) && t.IsClass)
            .Select(t => (IWireFormatDecoder)Activator.CreateInstance(t)!).Single(d => d.Reads("text/csv; charset=utf-8"));

        Assert.Equal("csv", decoder.Format);
        Assert.False(decoder.Reads("application/json"));
    }

    /// <summary>Each leaf as path=text (the CSV carries text), in order.</summary>
    static List<string> Leaves(JsonNode? node, string path = "") => node switch
    {
        JsonObject o => [.. o.SelectMany(p => Leaves(p.Value, path.Length == 0 ? p.Key : $"{path}.{p.Key}"))],
        JsonArray a => [.. a.SelectMany((e, i) => Leaves(e, $"{path}[{i}]"))],
        JsonValue v => [$"{path}={(v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString())}"],
        _ => [],
    };
}
