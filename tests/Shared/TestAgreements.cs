using System.Text.Json;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Testing;

namespace IntegrationGateway.Tests;

/// <summary>Agreements and events for unit tests, built in code with lawful defaults each test then varies.</summary>
internal static class TestAgreements
{
    /// <summary>A lawful agreement file of 21 lines; tests change one thing in it. validFrom is on line 15, reviewBy on line 21.</summary>
    public const string Yaml = """
        id: test-agreement
        version: 1
        recipient: duo
        title: Test agreement
        jurisdiction: NL
        eventTypes: [AbsenceReported]
        purposes: [Testing]
        legalBasis:
          gdpr: 6(1)(c)
          instrument: { kind: law, citation: Test act, article: art. 1 }
        fields:
          - eventId
          - source.institutionId
          - absence.from
        validFrom: 2024-01-01
        retention:
          duration: P1Y
          trigger: transfer
        transfer:
          region: EEA
        reviewBy: 2099-12-31
        """;

    public static Agreement Build(
        string id = "a1",
        string recipient = "duo",
        string jurisdiction = "NL",
        string[]? senders = null,
        string[]? fields = null,
        DateOnly? from = null,
        DateOnly? until = null,
        LegalBasis? legalBasis = null,
        string? consentPurpose = null,
        bool objectionStops = false,
        TransferRegion? transfer = null) => new()
    {
        Id = id,
        Version = 1,
        Recipient = recipient,
        Title = id,
        Jurisdiction = jurisdiction,
        EventTypes = ["AbsenceReported"],
        Senders = senders ?? [],
        Purposes = ["p"],
        LegalBasis = legalBasis ?? new LegalBasis("6(1)(c)", new LegalInstrument("law", "act", "art. 1")),
        ConsentPurpose = consentPurpose,
        ObjectionStops = objectionStops,
        Fields = FieldSelection.Parse(fields ?? ["eventId", "subject.bsn", "absence.from"]),
        ValidFrom = from,
        ValidUntil = until,
        ReviewBy = new DateOnly(2099, 12, 31),
        Retention = new Retention("P1Y", "transfer"),
        Transfer = transfer ?? TransferRegion.Eea,
        SourceFile = id + ".yaml",
    };

    /// <summary>
    /// A copy of the shipped agreement files as if their DPO had entered what their instruments lack (a test article,
    /// number and date, named as such): for tests of what those agreements send, while two shipped instruments wait for
    /// a verified article and are not in force. Written once per test run.
    /// </summary>
    public static string AsIfCompleteDirectory => s_complete.Value;

    /// <summary>
    /// A copy of the shipped agreement files as if their DPO had reviewed them, the next review far off: the
    /// integration tests' gateways load it, so what they test (routing, holding, delivery) does not change on the day
    /// a shipped <c>reviewBy</c> passes. That day is caught once, by name: <c>PolicyCliTests.Lint_ShippedAgreements_AreNotOverdueForReviewToday</c>.
    /// Written once per test run.
    /// </summary>
    public static string ReviewedDirectory => s_reviewed.Value;

    static readonly Lazy<string> s_reviewed = new(() =>
    {
        var folder = Directory.CreateTempSubdirectory("agreements-reviewed-").FullName;
        foreach (var file in Directory.GetFiles(RepoPaths.Agreements, "*.yaml"))
        {
            var text = System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(file), @"(?m)^reviewBy: .*$", "reviewBy: 2099-12-31 # the tests' copy: as if reviewed");
            File.WriteAllText(Path.Combine(folder, Path.GetFileName(file)), text);
        }

        return folder;
    });

    static readonly Lazy<string> s_complete = new(() =>
    {
        var folder = Directory.CreateTempSubdirectory("agreements-complete-").FullName;
        foreach (var agreement in AgreementLoader.LoadDirectory(ReviewedDirectory).Agreements)
        {
            var text = File.ReadAllText(agreement.SourceFile);
            var added = string.Concat(agreement.LegalBasis.Instrument.Missing.Select(part => part switch
            {
                "article" => "\n    article: art. (a test's, not the law's)",
                "reference" => "\n    reference: TEST",
                _ => "\n    date: 2024-01-01",
            }));
            var citation = text.IndexOf("\n    citation: ", StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(folder, Path.GetFileName(agreement.SourceFile)), added.Length == 0 ? text : text.Insert(text.IndexOf('\n', citation + 1), added));
        }

        return folder;
    });

    /// <summary>The agreements of <see cref="AsIfCompleteDirectory"/>.</summary>
    public static IReadOnlyList<Agreement> ShippedAsIfComplete() => AgreementLoader.LoadDirectory(AsIfCompleteDirectory).Agreements;

    /// <summary>
    /// Every leaf of a JSON value: a value, or an empty object or array; paths use [] for array elements, and member
    /// names as a ledger records them (<see cref="FieldSelection.PathSegment"/>).
    /// </summary>
    public static HashSet<string> LeavesOf(JsonElement root)
    {
        var leaves = new HashSet<string>(StringComparer.Ordinal);
        void Walk(JsonElement value, string path)
        {
            if (value.ValueKind == JsonValueKind.Object && value.EnumerateObject().Any())
            {
                foreach (var p in value.EnumerateObject())
                {
                    Walk(p.Value, path.Length == 0 ? FieldSelection.PathSegment(p.Name) : $"{path}.{FieldSelection.PathSegment(p.Name)}");
                }
            }
            else if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0)
            {
                foreach (var e in value.EnumerateArray())
                {
                    Walk(e, path + "[]");
                }
            }
            else
            {
                leaves.Add(path);
            }
        }

        if (root.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in root.EnumerateObject())
            {
                Walk(p.Value, FieldSelection.PathSegment(p.Name));
            }
        }

        return leaves;
    }

    /// <summary>A generated AbsenceReported in its wire shape; the document lives as long as the test.</summary>
    public static (Contracts.AbsenceReported Event, EventFacts Facts, JsonElement Body) AbsenceReported(int seed = 7)
    {
        var e = new SampleEventGenerator(seed, TimeProvider.System).NextAbsenceReported();
        var body = EventJson.ToDocument(e).RootElement;
        return (e, EventFacts.Of("AbsenceReported", body, Sender), body);
    }

    /// <summary>A lawful controller file: a Dutch secondary school, BRIN 12AB (the generator's Dutch sender), party to <paramref name="agreements"/>.</summary>
    public static string ControllerYaml(string id, string agreements) => $$"""
        id: {{id}}
        legalName: Test school {{id}}
        kind: secondary-school
        jurisdiction: NL
        identifiers:
          - scheme: brin
            value: "12AB"
        dpo:
          name: DPO
          email: dpo@example.org
        brokerUsers: [{{id}}]
        agreements: [{{agreements}}]
        """;

    /// <summary>
    /// A recipient's reference for the event under test, for engine tests: a fixed stand-in of its own per recipient
    /// (the gateway's are keyed pseudonyms of event and recipient, <c>LedgerKeys.TransferReference</c>).
    /// </summary>
    public static Guid ReferenceFor(string recipient) =>
        new(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("test reference " + recipient)).AsSpan(0, 16));

    public static readonly TransferReferences References = ReferenceFor;

    /// <summary>The controller registry as shipped (deploy/config/controllers).</summary>
    public static ControllerRegistry Shipped { get; } = new(ControllerLoader.LoadDirectory(RepoPaths.Controllers).Controllers);

    /// <summary>An event's facts with the shipped controller its source.institutionId names, as the intake would authenticate it.</summary>
    public static EventFacts ShippedFacts(string eventType, JsonElement body) =>
        EventFacts.Of(eventType, body, Shipped.ByInstitution(EventFacts.InstitutionOf(body)));

    /// <summary>
    /// A Dutch secondary school (BRIN 12AB, the generator's Dutch sender) party to the tests' own agreements (a1, a2,
    /// a-duo, a-lp, test-agreement) and to every shipped one: what a test that is not about controllers sends as.
    /// </summary>
    public static Controller Sender { get; } = PartyTo([
        "a1", "a2", "a-duo", "a-lp", "test-agreement",
        .. AgreementLoader.LoadDirectory(RepoPaths.Agreements).Agreements.Select(a => a.Id)]);

    /// <summary>A test controller (a Dutch secondary school, BRIN 12AB) party to exactly these agreements.</summary>
    public static Controller PartyTo(IEnumerable<string> agreementIds, string id = "test-school", string kind = "secondary-school", string jurisdiction = "NL") => new()
    {
        Id = id,
        LegalName = id,
        Kind = kind,
        Jurisdiction = jurisdiction,
        Identifiers = [new ControllerIdentifier(InstitutionIdentifiers.Brin, "12AB", null)],
        Dpo = new DataProtectionOfficer("DPO", "dpo@example.org"),
        BrokerUsers = [id],
        Agreements = [.. agreementIds],
        SourceFile = id + ".yaml",
    };
}
