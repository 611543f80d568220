namespace IntegrationGateway.Adapters.Duo;

/// <summary>DUO's endpoints as the gateway uses them: the shape a generated client would have.</summary>
public interface IDuoClient
{
    /// <summary>Reports an absence to the absence register (verzuimregister).</summary>
    Task<DeliveryResult> ReportAbsenceAsync(OutboundTransfer transfer, CancellationToken cancellationToken);

    /// <summary>Registers an enrolment, deregistration, exam result or diploma in BRON.</summary>
    Task<DeliveryResult> RegisterInBronAsync(string resource, OutboundTransfer transfer, CancellationToken cancellationToken);
}

internal sealed class DuoClient(HttpClient http) : IDuoClient
{
    public Task<DeliveryResult> ReportAbsenceAsync(OutboundTransfer transfer, CancellationToken cancellationToken) =>
        HttpDelivery.PostAsync(http, "verzuimmeldingen", transfer, JsonEnvelope.ToContent(transfer), cancellationToken);

    public Task<DeliveryResult> RegisterInBronAsync(string resource, OutboundTransfer transfer, CancellationToken cancellationToken) =>
        HttpDelivery.PostAsync(http, $"bron/{resource}", transfer, JsonEnvelope.ToContent(transfer), cancellationToken);
}
