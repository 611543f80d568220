namespace IntegrationGateway.Adapters.Json;

/// <summary>
/// One implementation for every recipient whose wire format is the plain JSON envelope: configured per recipient,
/// so adding such a recipient is a configuration entry and an agreement file.
/// </summary>
internal sealed class JsonRecipientAdapter(string recipient, HttpClient http, JsonRecipientOptions options) : IRecipientAdapter
{
    public string Recipient => recipient;

    public bool TakesErasureNotices => options.ErasureNotices;

    public Task<DeliveryResult> DeliverAsync(OutboundTransfer transfer, CancellationToken cancellationToken) =>
        HttpDelivery.PostAsync(http, options.Path, transfer, JsonEnvelope.ToContent(transfer), cancellationToken);
}
