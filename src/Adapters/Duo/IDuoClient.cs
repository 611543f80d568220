namespace IntegrationGateway.Adapters.Duo;

/// <summary>DUO's endpoints as the gateway uses them: the shape a generated client would have.</summary>
public interface IDuoClient
{
    /// <summary>Reports an absence to the absence register (verzuimregister).</summary>
    Task<DeliveryResult> ReportAbsenceAsync(OutboundTransfer transfer, CancellationToken cancellationToken);
}

internal sealed class DuoClient(HttpClient http) : IDuoClient
{
    public Task<DeliveryResult> ReportAbsenceAsync(OutboundTransfer transfer, CancellationToken cancellationToken) =>
        HttpDelivery.PostAsync(http, "verzuimmeldingen", transfer, DuoWireFormat.ToContent(transfer), cancellationToken);
}
