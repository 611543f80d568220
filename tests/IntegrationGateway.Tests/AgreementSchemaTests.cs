using System.Text.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.Gateway.Cli;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Tests;

/// <summary><c>policy schema</c>: what a recipient receives under an agreement, as a schema that admits what the gateway sends and nothing more.</summary>
public sealed class AgreementSchemaTests
{
    static readonly IReadOnlyList<Agreement> Shipped = TestAgreements.ShippedAsIfComplete();

    /// <summary>The body a JSON recipient receives, as the adapters write it (<see cref="Adapters.JsonEnvelope"/>).</summary>
    static JsonObject Envelope(Agreement agreement, string eventType, byte[] payload)
    {
        using var content = Adapters.JsonEnvelope.ToContent(new Adapters.OutboundTransfer("key", Guid.Empty, eventType, agreement.Id, payload) { AgreementHash = agreement.Hash });
        return JsonNode.Parse(content.ReadAsByteArrayAsync().GetAwaiter().GetResult())!.AsObject();
    }

    [Fact]
    public void EveryPayloadTheShippedAgreementsProject_FromGeneratedEvents_MatchesItsSchema()
    {
        var engine = new PolicyEngine(Shipped);
        var consents = new SubjectState { Consents = Shipped.Where(a => a.ConsentPurpose is not null).ToDictionary(a => a.ConsentPurpose!, _ => ConsentStatus.Given) };
        var generator = new SampleEventGenerator(17, TimeProvider.System);
        var validators = new Dictionary<(string, string), Func<JsonElement, IReadOnlyList<string>>>();
        var checkedPayloads = 0;
        foreach (var type in Shipped.SelectMany(a => a.EventTypes).Distinct())
        {
            for (var i = 0; i < 40; i++)
            {
                var e = generator.Next(type);
                var sloppy = SampleEventGenerator.AsSloppyExport(e);
                using var document = JsonDocument.Parse(sloppy.ToJsonString());
                foreach (var decision in engine.Evaluate(TestAgreements.ShippedFacts(type, document.RootElement), document.RootElement, consents, TimeProvider.System.GetUtcNow(), TestAgreements.References).Where(d => d.Allowed))
                {
                    var key = (decision.Agreement.Id, type);
                    if (!validators.TryGetValue(key, out var validate))
                    {
                        validators[key] = validate = AgreementSchemas.Validator(decision.Agreement, type);
                    }

                    var problems = validate(JsonSerializer.SerializeToElement(Envelope(decision.Agreement, type, decision.Payload!)));
                    Assert.True(problems.Count == 0, $"{decision.Agreement.Id}/{type}: {string.Join("; ", problems)}");
                    checkedPayloads++;
                }
            }
        }

        Assert.True(validators.Count >= 15, $"only {validators.Count} (agreement, type) schemas tried");
        Assert.True(checkedPayloads >= 300, $"only {checkedPayloads} payloads checked");
    }

    public static TheoryData<string, string> Violations => new()
    {
        // what is changed in a payload DUO's absence register received, and where the schema says it is wrong
        { "a name DUO does not receive", "/record/subject/familyName" },
        { "a member the contract does not declare", "/record/absence/note" },
        { "sickness absence, which this agreement never routes", "/record/absence/kind" },
        { "another agreement's id", "/agreement" },
        { "another text's hash", "/agreementHash" },
        { "no record", "" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void ARecordWithMoreThanTheAgreementSends_IsRefused_AtItsPlace(string violation, string where)
    {
        var agreement = Shipped.Single(a => a.Id == "duo-verzuimregister");
        var (_, facts, body) = TestAgreements.AbsenceReported();
        var decision = new PolicyEngine([agreement]).Evaluate(facts, body, SubjectState.Unknown, TimeProvider.System.GetUtcNow(), TestAgreements.References).Single();
        Assert.True(decision.Allowed, string.Join(",", decision.Reasons));
        var envelope = Envelope(agreement, "AbsenceReported", decision.Payload!);
        Assert.Equal(agreement.Hash, envelope["agreementHash"]!.GetValue<string>());
        var validate = AgreementSchemas.Validator(agreement, "AbsenceReported");
        Assert.Empty(validate(JsonSerializer.SerializeToElement(envelope)));

        var record = envelope["record"]!;
        switch (violation)
        {
            case "a name DUO does not receive": record["subject"]!["familyName"] = "Jansen"; break;
            case "a member the contract does not declare": record["absence"]!["note"] = "x"; break;
            case "sickness absence, which this agreement never routes": record["absence"]!["kind"] = "sickness"; break;
            case "another agreement's id": envelope["agreement"] = "leerplicht-verzuim"; break;
            case "another text's hash": envelope["agreementHash"] = "sha256:" + new string('0', 64); break;
            default: envelope.Remove("record"); break;
        }

        var problems = validate(JsonSerializer.SerializeToElement(envelope));
        Assert.NotEmpty(problems);
        Assert.Contains(problems, p => p.StartsWith(where + ":", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Contains("Jansen", StringComparison.Ordinal)); // the places, never the values
    }

    [Fact]
    public async Task PolicySchema_WritesAFilePerAgreementAndEventType()
    {
        var folder = Directory.CreateTempSubdirectory("policy-schema-").FullName;
        try
        {
            var (exit, _, error) = await CliRunner.Run("policy", "schema", "--out", folder, "--agreements", RepoPaths.Agreements, "--controllers", RepoPaths.Controllers);

            Assert.True(exit == ExitCodes.Ok, error);
            var expected = AgreementLoader.LoadDirectory(RepoPaths.Agreements).Agreements.SelectMany(a => a.EventTypes.Select(t => AgreementSchemas.FileName(a, t))).Order(StringComparer.Ordinal);
            Assert.Equal(expected, Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            var duo = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "duo-verzuimregister.AbsenceReported.schema.json")))!;
            Assert.Equal("unauthorised", duo["properties"]!["record"]!["properties"]!["absence"]!["properties"]!["kind"]!["const"]!.GetValue<string>());
            Assert.Null(duo["properties"]!["record"]!["properties"]!["subject"]!["properties"]!["familyName"]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
