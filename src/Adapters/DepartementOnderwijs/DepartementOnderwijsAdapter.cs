namespace IntegrationGateway.Adapters.DepartementOnderwijs;

/// <summary>
/// Departement Onderwijs en Vorming (Flanders): takes its notifications as XML, one <c>Overdracht</c> per transfer,
/// posted to <c>meldingen</c>. Only what is particular to it lives here: the XML mapping and the client.
/// </summary>
internal sealed class DepartementOnderwijsAdapter(IDepartementOnderwijsClient client) : IRecipientAdapter
{
    public const string RecipientId = "departement-onderwijs";

    public string Recipient => RecipientId;

    public Task<DeliveryResult> DeliverAsync(OutboundTransfer transfer, CancellationToken cancellationToken) =>
        client.SubmitAsync(transfer, cancellationToken);
}

/// <summary>The department's endpoint as the gateway uses it: the shape a generated client would have.</summary>
public interface IDepartementOnderwijsClient
{
    /// <summary>Submits one notification (melding) as XML.</summary>
    Task<DeliveryResult> SubmitAsync(OutboundTransfer transfer, CancellationToken cancellationToken);
}

internal sealed class DepartementOnderwijsClient(HttpClient http) : IDepartementOnderwijsClient
{
    public Task<DeliveryResult> SubmitAsync(OutboundTransfer transfer, CancellationToken cancellationToken)
    {
        HttpContent content;
        try
        {
            content = OverdrachtXml.ToContent(transfer);
        }
        catch (ArgumentException)
        {
            // A control character in a text field, say: refused here (kept for an operator), never altered.
            return Task.FromResult(new DeliveryResult(DeliveryStatus.Rejected, null, null, "the record holds a character XML cannot carry"));
        }

        return HttpDelivery.PostAsync(http, "meldingen", transfer, content, cancellationToken);
    }
}
