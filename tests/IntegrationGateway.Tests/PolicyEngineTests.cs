using System.Text.Json;
using IntegrationGateway.Gateway.Policy;
using static IntegrationGateway.Tests.TestAgreements;

namespace IntegrationGateway.Tests;

public class PolicyEngineTests
{
    static readonly DateTimeOffset Now = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    static PolicyDecision Decide(Agreement agreement, SubjectState? subject = null, DateTimeOffset? at = null)
    {
        var (_, facts, body) = AbsenceReported();
        return Assert.Single(new PolicyEngine([agreement]).Evaluate(facts, body, subject ?? SubjectState.Unknown, at ?? Now, TestAgreements.References));
    }

    [Fact]
    public void Evaluate_NoAgreementForTheEventType_DecidesNothing()
    {
        var (_, facts, body) = AbsenceReported();

        Assert.Empty(new PolicyEngine([Build()]).Evaluate(facts with { EventType = "StudentEnrolled" }, body, SubjectState.Unknown, Now, TestAgreements.References));
    }

    [Fact]
    public void Evaluate_ControllerNotParty_DeniesWithThatReasonAlone_AndNoControllerIsNoParty()
    {
        var (_, facts, body) = AbsenceReported();
        var engine = new PolicyEngine([Build(consentPurpose: "x", legalBasis: new LegalBasis(LegalBasis.Consent, new LegalInstrument("consent", "the consent form")))]);

        // Another controller, party to other agreements only: denied, and its consent (missing here) is not even asked.
        var other = Assert.Single(engine.Evaluate(facts with { Controller = PartyTo(["a2"], id: "school-b") }, body, SubjectState.Unknown, Now, TestAgreements.References));
        var none = Assert.Single(engine.Evaluate(facts with { Controller = null }, body, SubjectState.Unknown, Now, TestAgreements.References));

        Assert.Equal([ReasonCodes.ControllerNotParty], other.Reasons);
        Assert.Equal([ReasonCodes.ControllerNotParty], none.Reasons);
        Assert.Null(other.Payload);
    }

    [Fact]
    public void DecideNotice_AControllerThatLeftTheAgreement_StillTellsItsEarlierRecipients()
    {
        var (_, facts, body) = AbsenceReported();
        var agreement = Build();
        var left = facts with { Controller = PartyTo(["a2"]) };

        var notice = new PolicyEngine([agreement]).DecideNotice(agreement, left, body, agreement.Fields, Now, TestAgreements.References);
        var unknown = new PolicyEngine([agreement]).DecideNotice(agreement, facts with { Controller = null }, body, agreement.Fields, Now, TestAgreements.References);

        Assert.True(notice.Allowed); // art. 19: the duty comes from what it sent, which the ledger shows for this controller
        Assert.Equal([ReasonCodes.ControllerNotParty], unknown.Reasons); // no authenticated controller: nothing
    }

    [Theory]
    [InlineData("secondary-school", true)]
    [InlineData("test-school", true)]
    [InlineData("primary-school", false)]
    [InlineData("school-b", false)]
    public void Evaluate_Senders_NameControllersOrKinds(string sender, bool allowed)
    {
        var decision = Decide(Build(senders: [sender]));

        Assert.Equal(allowed, decision.Allowed);
        Assert.Equal(allowed ? [] : [ReasonCodes.SenderNotCovered], decision.Reasons);
    }

    [Fact]
    public void Evaluate_AgreementOfAnotherJurisdiction_DoesNotRoute()
    {
        var (_, facts, body) = AbsenceReported();

        Assert.Empty(new PolicyEngine([Build(jurisdiction: "BE-VLG")]).Evaluate(facts, body, SubjectState.Unknown, Now, TestAgreements.References));
    }

    [Fact]
    public void Evaluate_LawfulAgreement_AllowsWithOnlyTheAllowList()
    {
        var decision = Decide(Build());

        Assert.True(decision.Allowed);
        Assert.Empty(decision.Reasons);
        var payload = JsonDocument.Parse(decision.Payload!).RootElement;
        Assert.Equal(["absence", "eventId", "subject"], payload.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(["bsn"], payload.GetProperty("subject").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["from"], payload.GetProperty("absence").EnumerateObject().Select(p => p.Name));
    }

    static readonly LegalInstrument Consent = new("consent", "the consent form");
    static readonly LegalInstrument Act = new("law", "act", "art. 1");

    public static TheoryData<string, Agreement, SubjectState> Denials => new()
    {
        { ReasonCodes.InstrumentIncomplete, Build(legalBasis: new("6(1)(e)", new LegalInstrument("protocol", "Protocol A-B", Date: new DateOnly(2024, 1, 1)))), SubjectState.Unknown },
        { ReasonCodes.InstrumentIncomplete, Build(legalBasis: new("6(1)(c)", new LegalInstrument("law", "Some act"))), SubjectState.Unknown },
        { ReasonCodes.SenderNotCovered, Build(senders: ["99ZZ"]), SubjectState.Unknown },
        { ReasonCodes.AgreementNotYetValid, Build(from: new DateOnly(2026, 11, 21)), SubjectState.Unknown },
        { ReasonCodes.AgreementExpired, Build(until: new DateOnly(2026, 11, 19)), SubjectState.Unknown },
        { ReasonCodes.ConsentMissing, Build(legalBasis: new("6(1)(a)", Consent), consentPurpose: "school-photos"), SubjectState.Unknown },
        { ReasonCodes.ConsentMissing, Build(legalBasis: new("6(1)(a)", Consent), consentPurpose: "school-photos"), new SubjectState { Consents = new Dictionary<string, ConsentStatus> { ["other"] = ConsentStatus.Given } } },
        { ReasonCodes.ConsentWithdrawn, Build(legalBasis: new("6(1)(a)", Consent), consentPurpose: "school-photos"), new SubjectState { Consents = new Dictionary<string, ConsentStatus> { ["school-photos"] = ConsentStatus.Withdrawn } } },
        { ReasonCodes.ConsentMissing, Build(legalBasis: new("6(1)(e)", Consent, Art9Ground: "9(2)(a)"), consentPurpose: "health-data"), SubjectState.Unknown },
        { ReasonCodes.ObjectionLodged, Build(objectionStops: true), new SubjectState { Objected = true } },
        { ReasonCodes.SubjectErased, Build(), new SubjectState { Erased = true } },
        { ReasonCodes.OutsideEea, Build(transfer: new TransferRegion("US", null)), SubjectState.Unknown },
    };

    [Theory]
    [MemberData(nameof(Denials))]
    public void Evaluate_ReasonAgainstTheTransfer_DeniesWithItsCodeAndNoPayload(string reason, Agreement agreement, SubjectState subject)
    {
        var decision = Decide(agreement, subject);

        Assert.False(decision.Allowed);
        Assert.Null(decision.Payload);
        Assert.Equal([reason], decision.Reasons);
    }

    public static TheoryData<Agreement, SubjectState> Allowed => new()
    {
        { Build(legalBasis: new("6(1)(a)", Consent), consentPurpose: "school-photos"), new SubjectState { Consents = new Dictionary<string, ConsentStatus> { ["school-photos"] = ConsentStatus.Given } } },
        { Build(objectionStops: false), new SubjectState { Objected = true } },
        { Build(legalBasis: new("6(1)(c)", Act, OverridesErasure: true)), new SubjectState { Erased = true } },
        { Build(transfer: new TransferRegion("US", "Adequacy decision (EU) 2023/1795")), SubjectState.Unknown },
        { Build(transfer: new TransferRegion("BE", null)), SubjectState.Unknown },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public void Evaluate_WhatDoesNotStopTheTransfer_Allows(Agreement agreement, SubjectState subject) =>
        Assert.True(Decide(agreement, subject).Allowed);

    [Fact]
    public void Evaluate_SeveralReasons_AreAllReported()
    {
        var decision = Decide(Build(senders: ["99ZZ"], until: new DateOnly(2026, 1, 1)), new SubjectState { Erased = true });

        Assert.Equal([ReasonCodes.SenderNotCovered, ReasonCodes.AgreementExpired, ReasonCodes.SubjectErased], decision.Reasons);
    }

    [Fact]
    public void Evaluate_ValidUntilIsInclusiveInDutchTime()
    {
        // 23:30 UTC on the 19th is already the 20th in Amsterdam.
        var lateEvening = new DateTimeOffset(2026, 11, 19, 23, 30, 0, TimeSpan.Zero);
        var agreement = Build(until: new DateOnly(2026, 11, 19));

        Assert.False(Decide(agreement, at: lateEvening).Allowed);
        Assert.True(Decide(agreement, at: lateEvening.AddHours(-1)).Allowed);
    }

    [Theory]
    [InlineData("unauthorised", new[] { "duo-verzuimregister", "leerplicht-verzuim" })]
    [InlineData("sickness", new string[0])]
    [InlineData("other", new string[0])]
    public void Evaluate_ShippedAgreements_RouteOnlyUnauthorisedAbsence(string kind, string[] expected)
    {
        var agreements = AgreementLoader.LoadDirectory(RepoPaths.Agreements).Agreements;
        var e = new Gateway.Events.SampleEventGenerator(8, TimeProvider.System).NextAbsenceReported();
        var body = Gateway.Intake.EventJson.ToDocument(e with { Absence = e.Absence with { Kind = kind } }).RootElement;

        var decisions = new PolicyEngine(agreements).Evaluate(EventFacts.Of("AbsenceReported", body, TestAgreements.PartyTo(agreements.Select(a => a.Id))), body, SubjectState.Unknown, Now, TestAgreements.References);

        // Sickness absence is health data: no agreement has a ground to pass it on, so nothing routes it.
        Assert.Equal(expected, decisions.Select(d => d.Agreement.Id).Order());
    }

    [Fact]
    public void Evaluate_ShippedAgreements_FamilyCoachOnlyWhenTheMunicipalityReferred()
    {
        var agreements = AgreementLoader.LoadDirectory(RepoPaths.Agreements).Agreements;
        var plan = (Contracts.SupportPlanUpdated)new Gateway.Events.SampleEventGenerator(8, TimeProvider.System).Next("SupportPlanUpdated");
        string[] Routed(Contracts.SupportPlanUpdated e)
        {
            var body = Gateway.Intake.EventJson.ToDocument(e).RootElement;
            return new PolicyEngine(agreements).Evaluate(EventFacts.Of("SupportPlanUpdated", body, TestAgreements.PartyTo(agreements.Select(a => a.Id))), body, SubjectState.Unknown, Now, TestAgreements.References).Select(d => d.Agreement.Id).Order().ToArray();
        }

        Assert.Equal(["gezinscoach-gemeente", "samenwerkingsverband-passend-onderwijs"], Routed(plan with { SupportPlan = plan.SupportPlan with { Referral = new Contracts.Referral { ReferralId = "GEM-1" } } }));
        Assert.Equal(["samenwerkingsverband-passend-onderwijs"], Routed(plan with { SupportPlan = plan.SupportPlan with { Referral = null } }));
    }

    [Fact]
    public void Evaluate_ShippedAgreements_SendDuoNoNamesAddressOrGuardians()
    {
        var agreements = AgreementLoader.LoadDirectory(RepoPaths.Agreements).Agreements;
        var (e, facts, body) = AbsenceReported();

        var decision = Assert.Single(new PolicyEngine(agreements).Evaluate(facts, body, SubjectState.Unknown, Now, TestAgreements.References), d => d.Agreement.Id == "duo-verzuimregister");

        var disclosed = new SortedSet<string>(StringComparer.Ordinal);
        decision.Agreement.Fields.Classify("AbsenceReported", body, disclosed, new SortedSet<string>(StringComparer.Ordinal));
        Assert.Equal(
            ["absence.from", "absence.hours", "absence.kind", "absence.to", "eventId", "occurredAt", "source.institutionId", "subject.birthDate", "subject.bsn"],
            disclosed);
        var json = System.Text.Encoding.UTF8.GetString(decision.Payload!);
        Assert.Contains(e.Subject.Bsn!, json);
        Assert.DoesNotContain(e.Subject.FamilyName!, json);
        Assert.DoesNotContain(e.Subject.Email!, json);
    }
    [Fact]
    public void Redecide_ANoticeUnderAnAgreementThatRoutesOtherEvents_StaysAllowed_AsItWasProjected()
    {
        // A rectification or erasure notice travels under the agreement that carried the data, which routes other events.
        var agreement = Build(id: "a-duo");
        var payload = """{"eventId":"e","erasure":{"requestedOn":"2026-11-01"}}"""u8.ToArray();

        var notice = new PolicyEngine([agreement]).Redecide("a-duo", "duo", "ErasureRequested", payload, TestAgreements.ReferenceFor("duo"), "12AB", TestAgreements.Sender, subject: null, TimeProvider.System.GetUtcNow());

        Assert.Empty(notice.Reasons);
        Assert.Null(notice.Narrowed); // sent as the notice was made, not cut to the agreement's own fields
    }

    [Fact]
    public void Redecide_ATransferWhosePayloadNoLongerMeetsTheAgreementsConditions_IsStoppedAsAgreementChanged()
    {
        // Parked while the text routed every kind of absence; now it routes only unauthorised absence, and this one was sickness.
        var agreement = Build(id: "a-duo", fields: ["eventId", "absence.kind", "absence.from"]) with { When = [new RouteCondition("absence.kind", "unauthorised")] };
        var sickness = """{"eventId":"e","absence":{"kind":"sickness","from":"2026-11-02"}}"""u8.ToArray();
        var unauthorised = """{"eventId":"e","absence":{"kind":"unauthorised","from":"2026-11-02"}}"""u8.ToArray();
        var engine = new PolicyEngine([agreement]);

        var stopped = engine.Redecide("a-duo", "duo", "AbsenceReported", sickness, TestAgreements.ReferenceFor("duo"), "12AB", TestAgreements.Sender, SubjectState.Unknown, TimeProvider.System.GetUtcNow());
        var goes = engine.Redecide("a-duo", "duo", "AbsenceReported", unauthorised, TestAgreements.ReferenceFor("duo"), "12AB", TestAgreements.Sender, SubjectState.Unknown, TimeProvider.System.GetUtcNow());

        Assert.Equal([ReasonCodes.AgreementChanged], stopped.Reasons);
        Assert.Empty(goes.Reasons);
    }
}
