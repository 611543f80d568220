using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using IntegrationGateway.Adapters;
using IntegrationGateway.AgencySimulator;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace IntegrationGateway.IntegrationTests;

/// <summary>The simulator's own checks can fail: a wrong signature is refused, a field outside the allow-list is reported.</summary>
public sealed class SimulatorTests
{
    [Fact]
    public async Task Simulator_RefusesAWrongSignature_AndAcceptsTheRightOne()
    {
        await using var simulator = SimulatorApp.Create([], "http://127.0.0.1:0", TestServices.SimulatorSettings);
        await simulator.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(simulator.Urls.First()) };
        var body = """{"agreement":"duo-verzuimregister","eventType":"AbsenceReported","record":{"eventId":"6f1c2a8e-0b7d-4c1e-9a53-2d4f8e6b1c07"}}""";

        async Task<HttpStatusCode> Send(string secret)
        {
            var timestamp = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, "recipients/duo/verzuimmeldingen") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("Idempotency-Key", "6f1c2a8e-0b7d-4c1e-9a53-2d4f8e6b1c07:duo-verzuimregister");
            request.Headers.Add("webhook-id", "6f1c2a8e-0b7d-4c1e-9a53-2d4f8e6b1c07:duo-verzuimregister");
            request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", StandardWebhooks.Sign(StandardWebhooks.DecodeSecret(secret), "6f1c2a8e-0b7d-4c1e-9a53-2d4f8e6b1c07:duo-verzuimregister", timestamp, Encoding.UTF8.GetBytes(body)));
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await Send(TestServices.SigningSecrets["leerplicht"])); // another recipient's key
        Assert.Equal(HttpStatusCode.Created, await Send(TestServices.SigningSecrets["duo"]));
        var summary = await http.GetFromJsonAsync<JsonArray>("records/summary");
        Assert.Equal(1, summary![0]!["invalidSignatures"]!.GetValue<int>());
        Assert.Equal(1, summary[0]!["receipts"]!.GetValue<int>());
    }

    [Fact]
    public void AllowListCheck_ReportsEveryFieldTheAgreementDoesNotAllow()
    {
        var check = new AllowListCheck(new ConfigurationBuilder().AddInMemoryCollection(TestServices.SimulatorSettings).Build());

        var inside = JsonNode.Parse("""{"agreement":"duo-verzuimregister","eventType":"AbsenceReported","record":{"eventId":"x","subject":{"bsn":"1"},"absence":{"hours":3}}}""");
        var outside = JsonNode.Parse("""{"agreement":"duo-verzuimregister","eventType":"AbsenceReported","record":{"eventId":"x","subject":{"bsn":"1","familyName":"Jansen"},"absence":{"remark":"r"}}}""");
        var unknown = JsonNode.Parse("""{"agreement":"no-such-agreement","eventType":"AbsenceReported","record":{"eventId":"x"}}""");
        var noType = JsonNode.Parse("""{"agreement":"duo-verzuimregister","record":{"eventId":"x"}}""");

        Assert.Empty(check.FieldsOutside(inside));
        Assert.Equal(["subject.familyName", "absence.remark"], check.FieldsOutside(outside));
        Assert.Equal(["eventId"], check.FieldsOutside(unknown));
        Assert.Equal(["eventId"], check.FieldsOutside(noType)); // no contract to check against: nothing counts as declared
    }

    [Fact]
    public void AllowListCheck_LeafByLeaf_ReportsAMemberTheContractDoesNotDeclareInsideAnObjectAllowedWhole()
    {
        var check = new AllowListCheck(new ConfigurationBuilder().AddInMemoryCollection(TestServices.SimulatorSettings).Build());

        // The inspectorate's agreement allows `exam` whole; a prefix match would let exam.candidateBsn through.
        var clean = JsonNode.Parse("""{"agreement":"onderwijsinspectie-nl","eventType":"ExamResultRecorded","record":{"eventId":"x","exam":{"subjectCode":"ne","grade":7.5}}}""");
        var spoiled = JsonNode.Parse("""{"agreement":"onderwijsinspectie-nl","eventType":"ExamResultRecorded","record":{"eventId":"x","exam":{"subjectCode":"ne","candidateBsn":"123456782","note":{"text":"t"}}}}""");
        var wrongShape = JsonNode.Parse("""{"agreement":"onderwijsinspectie-nl","eventType":"ExamResultRecorded","record":{"exam":{"subjectCode":{"code":"ne"}}}}""");

        Assert.Empty(check.FieldsOutside(clean));
        Assert.Equal(["exam.candidateBsn", "exam.note.text"], check.FieldsOutside(spoiled));
        Assert.Equal(["exam.subjectCode.code"], check.FieldsOutside(wrongShape));
    }
}
