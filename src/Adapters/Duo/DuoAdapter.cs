namespace IntegrationGateway.Adapters.Duo;

/// <summary>DUO (Dienst Uitvoering Onderwijs): the absence register, and BRON for enrolments and exam results.</summary>
internal sealed class DuoAdapter(IDuoClient client) : IRecipientAdapter
{
    public const string RecipientId = "duo";

    public string Recipient => RecipientId;

    public Task<DeliveryResult> DeliverAsync(OutboundTransfer transfer, CancellationToken cancellationToken) =>
        transfer.EventType switch
        {
            "AbsenceReported" => client.ReportAbsenceAsync(transfer, cancellationToken),
            "StudentEnrolled" => client.RegisterInBronAsync("inschrijvingen", transfer, cancellationToken),
            "StudentDeregistered" => client.RegisterInBronAsync("uitschrijvingen", transfer, cancellationToken),
            "ExamResultRecorded" => client.RegisterInBronAsync("examenresultaten", transfer, cancellationToken),
            "DiplomaAwarded" => client.RegisterInBronAsync("diplomas", transfer, cancellationToken),
            // A correction of what BRON holds. BRON has no erasure notice: its registration is a legal obligation
            // that outlasts an erasure request (the agreements mark it overriding); the ledger records that DUO was
            // not told through the gateway (notice-not-supported).
            "PersonalDataRectified" => client.RegisterInBronAsync("correcties", transfer, cancellationToken),
            _ => Task.FromResult(new DeliveryResult(
                DeliveryStatus.Rejected, null, null, $"the DUO adapter has no mapping for {transfer.EventType}")),
        };
}
