using System.Text.Json.Nodes;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Tests;

public class PolicyEngineTests
{
    static readonly DateTimeOffset Now = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    static Agreement AgreementWith(
        string jurisdiction = "NL", string[]? senders = null, DateOnly? from = null, DateOnly? until = null) => new()
    {
        Id = "a1",
        Version = 1,
        Recipient = "duo",
        Title = "t",
        Jurisdiction = jurisdiction,
        EventTypes = ["AbsenceReported"],
        Senders = senders ?? [],
        Purposes = ["p"],
        LegalBasis = new LegalBasis("6(1)(c)", "act"),
        Fields = FieldSelection.Parse(["eventId", "subject.bsn", "absence.from"]),
        ValidFrom = from,
        ValidUntil = until,
        SourceFile = "a1.yaml",
    };

    static (EventFacts Facts, JsonObject Body) SampleEvent()
    {
        var e = new SampleEventGenerator(7, TimeProvider.System).NextAbsenceReported();
        var body = EventJson.ToJsonObject(e);
        return (EventJson.FactsOf("AbsenceReported", body), body);
    }

    [Fact]
    public void Evaluate_NoAgreementForTheEventType_DecidesNothing()
    {
        var (facts, body) = SampleEvent();

        var decisions = new PolicyEngine([AgreementWith()]).Evaluate(facts with { EventType = "StudentEnrolled" }, body, Now);

        Assert.Empty(decisions);
    }

    [Fact]
    public void Evaluate_AgreementOfAnotherJurisdiction_DoesNotRoute()
    {
        var (facts, body) = SampleEvent();

        Assert.Empty(new PolicyEngine([AgreementWith(jurisdiction: "BE-VLG")]).Evaluate(facts, body, Now));
    }

    [Fact]
    public void Evaluate_SenderOutsideTheScope_IsDeniedWithSenderNotCovered()
    {
        var (facts, body) = SampleEvent();

        var decision = Assert.Single(new PolicyEngine([AgreementWith(senders: ["99ZZ"])]).Evaluate(facts, body, Now));

        Assert.False(decision.Allowed);
        Assert.Null(decision.Payload);
        Assert.Equal([ReasonCodes.SenderNotCovered], decision.Reasons);
    }

    [Fact]
    public void Evaluate_BeforeValidFrom_IsDeniedAsNotYetValid()
    {
        var (facts, body) = SampleEvent();

        var decision = Assert.Single(new PolicyEngine([AgreementWith(from: new DateOnly(2026, 11, 21))]).Evaluate(facts, body, Now));

        Assert.Equal([ReasonCodes.AgreementNotYetValid], decision.Reasons);
    }

    [Fact]
    public void Evaluate_AfterValidUntil_IsDeniedAsExpired()
    {
        var (facts, body) = SampleEvent();

        var decision = Assert.Single(new PolicyEngine([AgreementWith(until: new DateOnly(2026, 11, 19))]).Evaluate(facts, body, Now));

        Assert.Equal([ReasonCodes.AgreementExpired], decision.Reasons);
    }

    [Fact]
    public void Evaluate_ValidUntilIsInclusiveInDutchTime()
    {
        var (facts, body) = SampleEvent();
        // 23:30 UTC on the 19th is already the 20th in Amsterdam.
        var lateEvening = new DateTimeOffset(2026, 11, 19, 23, 30, 0, TimeSpan.Zero);

        var engine = new PolicyEngine([AgreementWith(until: new DateOnly(2026, 11, 19))]);

        Assert.False(engine.Evaluate(facts, body, lateEvening).Single().Allowed);
        Assert.True(engine.Evaluate(facts, body, lateEvening.AddHours(-1)).Single().Allowed);
    }

    [Fact]
    public void Evaluate_Allowed_PayloadHoldsOnlyTheAllowList()
    {
        var (facts, body) = SampleEvent();

        var decision = Assert.Single(new PolicyEngine([AgreementWith(senders: [facts.InstitutionId])]).Evaluate(facts, body, Now));

        Assert.True(decision.Allowed);
        var payload = decision.Payload!;
        Assert.Equal(["absence", "eventId", "subject"], payload.Select(p => p.Key).Order());
        Assert.Equal(["bsn"], payload["subject"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["from"], payload["absence"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void Evaluate_ShippedDuoAgreement_SendsNoNamesAddressOrGuardians()
    {
        var agreements = AgreementLoader.LoadDirectory(RepoPaths.Agreements).Agreements;
        var (facts, body) = SampleEvent();

        var decision = Assert.Single(new PolicyEngine(agreements).Evaluate(facts, body, Now), d => d.Agreement.Id == "duo-verzuimregister");

        var json = decision.Payload!.ToJsonString();
        Assert.Contains(body["subject"]!["bsn"]!.GetValue<string>(), json);
        foreach (var value in new[] { body["subject"]!["givenName"], body["subject"]!["familyName"], body["subject"]!["email"], body["subject"]!["address"]!["street"], body["guardians"]![0]!["email"] })
        {
            Assert.DoesNotContain(value!.GetValue<string>(), json);
        }

        Assert.Null(decision.Payload["guardians"]);
    }
}
