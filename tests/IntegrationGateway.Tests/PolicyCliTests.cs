using System.Text.Json;
using IntegrationGateway.Gateway.Cli;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Tests;

/// <summary>The <c>policy</c> verbs, run as a user runs them: arguments in, text and exit code out.</summary>
public sealed class PolicyCliTests : IDisposable
{
    /// <summary>A lawful agreement; each test changes one thing. Line numbers below refer to its text.</summary>
    const string Base = TestAgreements.Yaml;

    readonly string _dir = Directory.CreateTempSubdirectory("policy-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A controller folder with one Dutch school (BRIN 12AB, the test event's sender) party to the test agreement.</summary>
    string Controllers(bool party = true)
    {
        var folder = Path.Combine(_dir, "controllers");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "test-school.yaml"), TestAgreements.ControllerYaml("test-school", party ? "test-agreement" : ""));
        return folder;
    }

    string Agreements(string yaml, string name = "agreement.yaml")
    {
        var folder = Path.Combine(_dir, "agreements");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, name), yaml);
        return folder;
    }

    [Fact]
    public async Task Lint_ShippedAgreements_AreClean_ButForTheTwoInstrumentsNotVerified()
    {
        // On a fixed day: the shipped agreements' review dates come round, and then this says so on its own day, not CI's.
        var (exit, output, _) = await CliRunner.Run("policy", "lint", "--agreements", RepoPaths.Agreements, "--controllers", RepoPaths.Controllers, "--on", "2026-12-01");

        // Two agreements name an instrument without the article it needs, which could not be verified: they are not in
        // force (their transfers are denied) until the DPO enters it. Everything else is clean.
        Assert.Equal(ExitCodes.Failed, exit);
        Assert.Contains($"{ShippedFiles} agreement(s) and {Directory.GetFiles(RepoPaths.Controllers, "*.yaml").Length} controller(s) checked, 2 error(s).", output);
        Assert.Matches(@"clb-afwezigheden\.yaml:\d+: \[instrument\] the decree 'Decreet van 27 april 2018[^\n]* needs its article", output);
        Assert.Matches(@"samenwerkingsverband-passend-onderwijs\.yaml:\d+: \[instrument\] the law 'Wet voortgezet onderwijs 2020' needs its article", output);
    }

    /// <summary>
    /// The one test that runs on today's date: from the day after a shipped agreement's reviewBy its transfers are held
    /// (review-overdue), the demo and the load harness hold everything, and this names the file and line to review.
    /// </summary>
    [Fact]
    public async Task Lint_ShippedAgreements_AreNotOverdueForReviewToday()
    {
        var (_, output, _) = await CliRunner.Run("policy", "lint", "--agreements", RepoPaths.Agreements, "--controllers", RepoPaths.Controllers);

        Assert.DoesNotContain("[review-overdue]", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hash_NamesEachFilesText_TheSameAfterAComment_AnotherAfterAChangedValue()
    {
        var (exit, output, _) = await CliRunner.Run("policy", "hash", "--agreements", Agreements(Base));
        var (_, commented, _) = await CliRunner.Run("policy", "hash", "--agreements", Agreements("# reviewed by the DPO\n" + Base));
        var (_, changed, _) = await CliRunner.Run("policy", "hash", "--agreements", Agreements(Base.Replace("version: 1", "version: 2", StringComparison.Ordinal)));

        Assert.Equal(ExitCodes.Ok, exit);
        var hash = Assert.Single(System.Text.RegularExpressions.Regex.Matches(output, "sha256:[0-9a-f]{64}")).Value;
        Assert.StartsWith($"test-agreement  v1  {hash}  ", output, StringComparison.Ordinal);
        Assert.Equal(AgreementLoader.LoadDirectory(Agreements(Base)).Agreements.Single().Hash, hash); // what the gateway records and 'policy approve' takes
        Assert.Contains(hash, commented, StringComparison.Ordinal);
        Assert.DoesNotContain(hash, changed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lint_LawfulBase_IsClean()
    {
        var (exit, _, _) = await CliRunner.Run("policy", "lint", "--agreements", Agreements(Base), "--controllers", Controllers());

        Assert.Equal(ExitCodes.Ok, exit);
    }

    public static TheoryData<string, string, string, int> BadAgreements => new()
    {
        // rule, text to replace in Base, replacement, line the error must name
        { "national-identifier", "  - absence.from", "  - absence.from\n  - subject.bsn", 15 },
        { "national-identifier", "  - eventId", "  - subject", 12 },
        { "special-category", "eventTypes: [AbsenceReported]\n", "eventTypes: [SupportPlanUpdated]\n", 14 },
        { "consent-purpose", "gdpr: 6(1)(c)", "gdpr: 6(1)(a)", 8 },
        { "unknown-field", "  - absence.from", "  - absence.hour", 14 },
        { "unknown-event-type", "eventTypes: [AbsenceReported]", "eventTypes: [AbsenceReported, PupilTeleported]", 6 },
        { "validity-window", "validFrom: 2024-01-01", "validFrom: 2024-01-01\nvalidUntil: 2023-12-31", 15 },
        { "erasure-override", "  instrument: { kind: law, citation: Test act, article: art. 1 }", "  instrument: { kind: law, citation: Test act, article: art. 1 }\n  overridesErasure: true\n  # on a public task", 8 },
        { "unknown-key", "validFrom: 2024-01-01", "validFrom: 2024-01-01\nvalid_until: 2030-01-01", 16 },
        { "retention", "duration: P1Y", "duration: one year", 17 },
        { "duplicate-entry", "eventTypes: [AbsenceReported]", "eventTypes: [AbsenceReported, AbsenceReported]", 6 },
        { "transfer", "region: EEA", "region: Europe", 20 },
        { "unknown-key", "purposes: [Testing]", "purposes: [Testing]\n!!str senders: [99ZZ]", 8 },
        { "when", "purposes: [Testing]", "purposes: [Testing]\nwhen:\n  - path: absence.kind", 9 },
        { "unknown-field", "purposes: [Testing]", "purposes: [Testing]\nwhen:\n  - path: absence.sort\n    equals: x", 9 },
        // An object takes in every member its contract declares, later ones too: only when the agreement says so, and why.
        { "whole-object", "  - absence.from", "  - absence", 14 },
        { "whole-object", "  - absence.from", "  - { path: absence, whole: true }", 14 },
        { "whole-object", "  - absence.from", "  - { path: absence.from, whole: true, reason: all of it }", 14 },
        // Special categories by value: a report of sickness absence is health data unless 'when' rules it out.
        { "special-category", "  - absence.from", "  - absence.kind", 14 },
        // Free text may say anything: only where the agreement says so, and as possibly special.
        { "free-text", "  - absence.from", "  - absence.remark", 14 },
        { "special-category", "  - absence.from", "  - absence.remark", 14 },
        { "free-text", "  - absence.from", "  - { path: absence.from, freeText: true, reason: words }", 14 },
        { "review-overdue", "reviewBy: 2099-12-31", "reviewBy: 2026-11-30", 21 },
        // An instrument without the parts its kind needs: a law without its article, a protocol without its number and date.
        { "instrument", "citation: Test act, article: art. 1 }", "citation: Test act }", 8 },
        { "instrument", "{ kind: law, citation: Test act, article: art. 1 }", "{ kind: protocol, citation: Protocol A-B, date: 2024-01-01 }", 8 },
        { "instrument", "{ kind: law, citation: Test act, article: art. 1 }", "{ kind: consent, citation: the form }", 8 },
        { "required", "reviewBy: 2099-12-31", "", 1 },
        { "required", "reviewBy: 2099-12-31", "reviewBy: ~", 1 },
    };

    [Theory]
    [MemberData(nameof(BadAgreements))]
    public async Task Lint_BadAgreement_IsRejectedNamingFileLineAndRule(string rule, string find, string replace, int line)
    {
        var yaml = Base.Replace(find, replace, StringComparison.Ordinal);
        if (rule == "special-category")
        {
            yaml = yaml.Replace("  - absence.from", "  - supportPlan.medicalNotes", StringComparison.Ordinal);
        }

        if (rule == "erasure-override")
        {
            yaml = yaml.Replace("gdpr: 6(1)(c)", "gdpr: 6(1)(e)", StringComparison.Ordinal);
        }

        Assert.NotEqual(Base, yaml);
        var folder = Agreements(yaml);

        var (exit, output, _) = await CliRunner.Run("policy", "lint", "--agreements", folder, "--controllers", Controllers(), "--on", "2026-12-01");

        Assert.Equal(ExitCodes.Failed, exit);
        Assert.Contains($"{Path.Combine(folder, "agreement.yaml")}:{line}: [{rule}]", output);
    }

    [Fact]
    public async Task Lint_DuplicateIds_IsRejectedNamingTheSecondFile()
    {
        Agreements(Base, "a.yaml");
        var folder = Agreements(Base, "b.yaml");

        var (exit, output, _) = await CliRunner.Run("policy", "lint", "--agreements", folder, "--controllers", Controllers());

        Assert.Equal(ExitCodes.Failed, exit);
        Assert.Contains($"{Path.Combine(folder, "b.yaml")}:1: [duplicate-id]", output); // the id's line
    }

    [Fact]
    public async Task Lint_SpecialCategoryWithArt9Ground_IsClean()
    {
        var yaml = Base.Replace("eventTypes: [AbsenceReported]", "eventTypes: [SupportPlanUpdated]", StringComparison.Ordinal)
            .Replace("  - absence.from", "  - supportPlan.medicalNotes", StringComparison.Ordinal)
            .Replace("  instrument: { kind: law, citation: Test act, article: art. 1 }", "  instrument: { kind: law, citation: Test act, article: art. 1 }\n  art9Ground: 9(2)(h)", StringComparison.Ordinal)
            .Replace("purposes: [Testing]", "purposes: [Testing]\nsenders: [secondary-school]", StringComparison.Ordinal);

        var (exit, output, _) = await CliRunner.Run("policy", "lint", "--agreements", Agreements(yaml), "--controllers", Controllers());

        Assert.True(exit == ExitCodes.Ok, output);
    }

    [Fact]
    public async Task Lint_ASpecialValueRuledOutByWhen_OrFreeTextOnAnArt9GroundSaidSo_IsClean()
    {
        var kind = Base.Replace("  - absence.from", "  - absence.kind", StringComparison.Ordinal)
            .Replace("purposes: [Testing]", "purposes: [Testing]\nwhen:\n  - path: absence.kind\n    equals: unauthorised", StringComparison.Ordinal);
        var remark = Base.Replace("  - absence.from", "  - { path: absence.remark, freeText: true, reason: the officer reads how the school followed up }", StringComparison.Ordinal)
            .Replace("  instrument: { kind: law, citation: Test act, article: art. 1 }", "  instrument: { kind: law, citation: Test act, article: art. 1 }\n  art9Ground: 9(2)(g)", StringComparison.Ordinal)
            .Replace("purposes: [Testing]", "purposes: [Testing]\nsenders: [secondary-school]", StringComparison.Ordinal);

        foreach (var yaml in new[] { kind, remark })
        {
            var (exit, output, _) = await CliRunner.Run("policy", "lint", "--agreements", Agreements(yaml), "--controllers", Controllers());
            Assert.True(exit == ExitCodes.Ok, output);
        }
    }

    [Fact]
    public async Task Lint_AReviewDueWithin30Days_IsANotice_TheDayAfterItIsAnError()
    {
        var folder = Agreements(Base.Replace("reviewBy: 2099-12-31", "reviewBy: 2026-12-20", StringComparison.Ordinal));

        var (dueExit, due, _) = await CliRunner.Run("policy", "lint", "--agreements", folder, "--controllers", Controllers(), "--on", "2026-12-01");
        var (lastExit, _, _) = await CliRunner.Run("policy", "lint", "--agreements", folder, "--controllers", Controllers(), "--on", "2026-12-20");
        var (overExit, over, _) = await CliRunner.Run("policy", "lint", "--agreements", folder, "--controllers", Controllers(), "--on", "2026-12-21");

        Assert.Equal(ExitCodes.Ok, dueExit);
        Assert.Contains(":21: [review-due] due for review by 2026-12-20, in 19 day(s)", due);
        Assert.Contains("0 error(s), 1 due for review soon.", due);
        Assert.Equal(ExitCodes.Ok, lastExit);
        Assert.Equal(ExitCodes.Failed, overExit);
        Assert.Contains(":21: [review-overdue] the review was due by 2026-12-20, 1 day(s) ago", over);
    }

    [Fact]
    public async Task Lint_AWholeObjectWithItsReason_IsClean_AndTheRegisterSaysItIsWhole()
    {
        var yaml = Base.Replace("  - absence.from", "  - { path: subject.address, whole: true, reason: the officer visits the home }", StringComparison.Ordinal);

        var folder = Agreements(yaml);
        var (exit, output, _) = await CliRunner.Run("policy", "lint", "--agreements", folder, "--controllers", Controllers());
        var (_, register, _) = await CliRunner.Run("policy", "register", "--format", "md", "--agreements", folder, "--controllers", Controllers());

        Assert.True(exit == ExitCodes.Ok, output);
        Assert.Contains("`subject.address (whole: the officer visits the home)`", register);
    }

    // ---- evaluate ----

    static readonly Contracts.AbsenceReported Event = new SampleEventGenerator(31, TimeProvider.System).NextAbsenceReported();

    string EventFile()
    {
        var path = Path.Combine(_dir, "event.json");
        File.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(Event, EventJsonContext.Default.AbsenceReported));
        return path;
    }

    string SubjectStateFile(string entry)
    {
        var path = Path.Combine(_dir, "subjects.json");
        File.WriteAllText(path, $$"""{ "subjects": [ { "bsn": "{{Event.Subject.Bsn}}", {{entry}} } ] }""");
        return path;
    }

    async Task<JsonElement> EvaluateSingle(string yaml, string[]? extra = null, bool party = true)
    {
        string[] args = ["policy", "evaluate", "--type", "AbsenceReported", "--event", EventFile(), "--agreements", Agreements(yaml), "--controllers", Controllers(party), "--at", "2026-11-20T12:00:00Z", .. extra ?? []];
        var (exit, output, error) = await CliRunner.Run(args);
        Assert.True(exit == ExitCodes.Ok, error);
        var result = JsonDocument.Parse(output).RootElement;
        Assert.Equal(Event.EventId.ToString("D"), result.GetProperty("eventId").GetString());
        Assert.Equal("AbsenceReported", result.GetProperty("eventType").GetString());
        return Assert.Single(result.GetProperty("decisions").EnumerateArray());
    }

    static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    static SortedSet<string> LeavesOfEvent()
    {
        var leaves = new SortedSet<string>(StringComparer.Ordinal);
        FieldSelection.Parse([]).Classify("AbsenceReported", EventJson.ToDocument(Event).RootElement, new SortedSet<string>(), leaves);
        return leaves;
    }

    public static TheoryData<string, string, string, string?> Reasons => new()
    {
        // reason, text to replace in Base, replacement, subject-state entry; "not party" empties the controller's list
        { ReasonCodes.ControllerNotParty, "purposes: [Testing]", "purposes: [Testing]", "not party" },
        { ReasonCodes.AgreementNotYetValid, "validFrom: 2024-01-01", "validFrom: 2027-01-01", null },
        { ReasonCodes.AgreementExpired, "validFrom: 2024-01-01", "validFrom: 2024-01-01\nvalidUntil: 2025-12-31", null },
        { ReasonCodes.ConsentMissing, "gdpr: 6(1)(c)\n  instrument: { kind: law, citation: Test act, article: art. 1 }", "gdpr: 6(1)(a)\n  instrument: { kind: consent, citation: the consent form }", null },
        { ReasonCodes.ConsentWithdrawn, "gdpr: 6(1)(c)\n  instrument: { kind: law, citation: Test act, article: art. 1 }", "gdpr: 6(1)(a)\n  instrument: { kind: consent, citation: the consent form }", "\"consents\": { \"school-photos\": \"withdrawn\" }" },
        { ReasonCodes.InstrumentIncomplete, "citation: Test act, article: art. 1 }", "citation: Test act }", null },
        { ReasonCodes.ObjectionLodged, "purposes: [Testing]", "purposes: [Testing]\nobjectionStops: true", "\"objection\": true" },
        { ReasonCodes.SubjectErased, "purposes: [Testing]", "purposes: [Testing]", "\"erased\": true" },
        { ReasonCodes.OutsideEea, "region: EEA", "region: US", null },
    };

    [Theory]
    [MemberData(nameof(Reasons))]
    public async Task Evaluate_EachReasonCode_DeniesWithItAndWithholdsEveryLeaf(string reason, string find, string replace, string? subjectState)
    {
        var yaml = Base.Replace(find, replace, StringComparison.Ordinal);
        if (replace.Contains("6(1)(a)", StringComparison.Ordinal))
        {
            yaml += "\nconsentPurpose: school-photos\n"; // a consent ground names the consent it checks
        }

        string[] extra = subjectState is null or "not party" ? [] : ["--subject-state", SubjectStateFile(subjectState)];

        var decision = await EvaluateSingle(yaml, extra, party: subjectState != "not party");

        Assert.Equal("deny", decision.GetProperty("outcome").GetString());
        Assert.Equal([reason], Strings(decision.GetProperty("reasons")));
        Assert.False(decision.TryGetProperty("payload", out _));
        Assert.Empty(Strings(decision.GetProperty("disclosed")));
        Assert.Equal(LeavesOfEvent(), Strings(decision.GetProperty("withheld")).ToHashSet());
    }

    [Fact]
    public async Task Evaluate_Allowed_PrintsPayloadAndSplitsEveryLeaf()
    {
        var decision = await EvaluateSingle(Base);

        Assert.Equal("allow", decision.GetProperty("outcome").GetString());
        Assert.Empty(Strings(decision.GetProperty("reasons")));
        Assert.Equal("6(1)(c)", decision.GetProperty("legalBasis").GetProperty("gdpr").GetString());
        Assert.Equal(["absence.from", "eventId", "source.institutionId"], Strings(decision.GetProperty("disclosed")));
        var withheld = Strings(decision.GetProperty("withheld"));
        Assert.Equal(LeavesOfEvent(), Strings(decision.GetProperty("disclosed")).Concat(withheld).ToHashSet());
        Assert.Empty(Strings(decision.GetProperty("disclosed")).Intersect(withheld));
        var payload = decision.GetProperty("payload");
        Assert.Equal(Event.Absence.From.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), payload.GetProperty("absence").GetProperty("from").GetString());
        Assert.False(payload.TryGetProperty("subject", out _));
    }

    [Fact]
    public async Task Evaluate_ConsentGiven_Allows()
    {
        var yaml = Base.Replace("gdpr: 6(1)(c)\n  instrument: { kind: law, citation: Test act, article: art. 1 }", "gdpr: 6(1)(a)\n  instrument: { kind: consent, citation: the consent form }", StringComparison.Ordinal) + "\nconsentPurpose: school-photos\n";

        var decision = await EvaluateSingle(yaml, ["--subject-state", SubjectStateFile("\"consents\": { \"school-photos\": \"given\" }")]);

        Assert.Equal("allow", decision.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Evaluate_EventFileNotJson_FailsWithoutQuotingIt()
    {
        var path = Path.Combine(_dir, "broken.json");
        await File.WriteAllTextAsync(path, """{"subject": {"bsn": "123456782", """);

        var (exit, _, error) = await CliRunner.Run("policy", "evaluate", "--type", "AbsenceReported", "--event", path, "--agreements", Agreements(Base), "--controllers", Controllers());

        Assert.Equal(ExitCodes.Failed, exit);
        Assert.Contains("is not a valid AbsenceReported", error);
        Assert.DoesNotContain("123456782", error);
    }

    [Theory]
    [InlineData("PupilTeleported", null, "--type")]
    [InlineData("AbsenceReported", "yesterday", "--at")]
    public async Task Evaluate_BadArgument_IsAUsageError(string type, string? at, string option)
    {
        string[] args = ["policy", "evaluate", "--type", type, "--event", EventFile(), "--agreements", Agreements(Base), "--controllers", Controllers()];
        if (at is not null)
        {
            args = [.. args, "--at", at];
        }

        var (exit, _, error) = await CliRunner.Run(args);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains(option, error);
    }

    // ---- register ----

    [Theory]
    [InlineData("cvo-focus", "CVO Focus", "departement-onderwijs-volwassenenonderwijs")]
    [InlineData("cvoz", "Centrum voor Onderwijs en Zorg", "gezinscoach-gemeente")]
    [InlineData("in-gent", "IN-Gent vzw", "agii-kruispuntbank-inburgering")]
    [InlineData("school-003", "seed 003", "duo-verzuimregister")]
    [InlineData("onderwijs-pro", "Onderwijs.pro", "toetsbureau-examenaanmelding")]
    public async Task Register_PerController_IsThatControllersRecord_WithOnlyItsAgreements(string controller, string name, string oneOfItsAgreements)
    {
        var (exit, output, error) = await CliRunner.Run("policy", "register", "--controller", controller, "--format", "md", "--agreements", RepoPaths.Agreements, "--controllers", RepoPaths.Controllers);

        Assert.True(exit == ExitCodes.Ok, error);
        Assert.StartsWith("# Record of processing (GDPR art. 30): ", output);
        Assert.Contains(name, output.Split('\n')[0]);
        Assert.Contains("| Data-protection officer |", output);
        Assert.Contains($"| Agreement | `{oneOfItsAgreements}` version ", output);
        var party = TestAgreements.Shipped.ById(controller)!.Agreements;
        var listed = System.Text.RegularExpressions.Regex.Matches(output, @"\| Agreement \| `([^`]+)`").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(party.Order(), listed.Order()); // its own agreements, and no other controller's
    }

    [Fact]
    public async Task Register_UnknownController_FailsNamingTheKnownOnes()
    {
        var (exit, _, error) = await CliRunner.Run("policy", "register", "--controller", "no-such-school", "--agreements", RepoPaths.Agreements, "--controllers", RepoPaths.Controllers);

        Assert.Equal(ExitCodes.Failed, exit);
        Assert.Contains("no controller 'no-such-school'; known: ", error);
    }

    [Fact]
    public async Task Register_Markdown_HasEveryShippedAgreement()
    {
        var (exit, output, _) = await CliRunner.Run("policy", "register", "--format", "md", "--agreements", RepoPaths.Agreements, "--controllers", RepoPaths.Controllers);

        Assert.Equal(ExitCodes.Ok, exit);
        var ids = AgreementLoader.LoadDirectory(RepoPaths.Agreements).Agreements.Select(a => a.Id).ToList();
        Assert.Equal(ShippedFiles, ids.Count);
        Assert.All(ids, id => Assert.Contains($"| Agreement | `{id}` version ", output));
        Assert.Contains("| National identifiers | bsn under", output);
        Assert.Contains("| Consent checked | school-photos |", output);
        Assert.Contains("| Only when | absence.kind = unauthorised |", output);
        Assert.Contains("| Only when | supportPlan.referral is present |", output);
    }

    [Fact]
    public async Task Register_Json_ListsEveryAgreementWithItsGround()
    {
        var (exit, output, _) = await CliRunner.Run("policy", "register", "--format", "json", "--agreements", RepoPaths.Agreements, "--controllers", RepoPaths.Controllers);

        Assert.Equal(ExitCodes.Ok, exit);
        var agreements = JsonDocument.Parse(output).RootElement.GetProperty("agreements").EnumerateArray().ToList();
        Assert.Equal(ShippedFiles, agreements.Count);
        Assert.All(agreements, a => Assert.StartsWith("6(1)(", a.GetProperty("gdpr").GetString()));
    }

    /// <summary>One agreement per file in the shipped folder.</summary>
    static int ShippedFiles => Directory.GetFiles(RepoPaths.Agreements, "*.yaml").Length;
}
