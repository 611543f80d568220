using System.Text.Json;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Tests;

/// <summary>Agreements and events for unit tests, built in code with lawful defaults each test then varies.</summary>
internal static class TestAgreements
{
    /// <summary>A lawful agreement file of 20 lines; tests change one thing in it. validFrom is on line 15.</summary>
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
          instrument: Test act, art. 1
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
        LegalBasis = legalBasis ?? new LegalBasis("6(1)(c)", "act"),
        ConsentPurpose = consentPurpose,
        ObjectionStops = objectionStops,
        Fields = FieldSelection.Parse(fields ?? ["eventId", "subject.bsn", "absence.from"]),
        ValidFrom = from,
        ValidUntil = until,
        Retention = new Retention("P1Y", "transfer"),
        Transfer = transfer ?? TransferRegion.Eea,
        SourceFile = id + ".yaml",
    };

    /// <summary>A generated AbsenceReported in its wire shape; the document lives as long as the test.</summary>
    public static (Contracts.AbsenceReported Event, EventFacts Facts, JsonElement Body) AbsenceReported(int seed = 7)
    {
        var e = new SampleEventGenerator(seed, TimeProvider.System).NextAbsenceReported();
        var body = EventJson.ToDocument(e).RootElement;
        return (e, EventFacts.Of("AbsenceReported", body), body);
    }
}
