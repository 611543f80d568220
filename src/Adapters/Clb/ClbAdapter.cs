using Refit;

namespace IntegrationGateway.Adapters.Clb;

/// <summary>
/// The pupil guidance centre (centrum voor leerlingenbegeleiding, Flanders): takes notices of unauthorised absence of
/// minors as a CSV document per transfer (<see cref="ClbCsv"/>), posted to <c>meldingen</c> through its own API
/// (<see cref="IClbApi"/>, a Refit interface). The worked example in <c>src/Adapters/README.md</c>.
/// </summary>
internal sealed class ClbAdapter(IClbApi api, Microsoft.Extensions.Options.IOptions<ClbOptions> options) : IRecipientAdapter
{
    public const string RecipientId = "clb";

    public string Recipient => RecipientId;

    public Task<DeliveryResult> DeliverAsync(OutboundTransfer transfer, CancellationToken cancellationToken)
    {
        HttpContent content;
        try
        {
            content = ClbCsv.ToContent(transfer);
        }
        catch (FormatException)
        {
            // A record this format cannot carry (a nested list, say): refused here, kept for an operator, never altered.
            return Task.FromResult(new DeliveryResult(DeliveryStatus.Rejected, null, null, "the record does not fit the CLB's CSV format"));
        }

        return HttpDelivery.DeliverAsync(options.Value.BaseUrl, content, token => api.SubmitAsync(content, transfer.IdempotencyKey, token), cancellationToken);
    }
}

/// <summary>The CLB's endpoint: one notice (melding) per call, the idempotency key in a header, the receipt as JSON.</summary>
public interface IClbApi
{
    [Post("/meldingen")]
    Task<HttpResponseMessage> SubmitAsync([Body] HttpContent notice, [Header(HttpDelivery.IdempotencyKeyHeader)] string idempotencyKey, CancellationToken cancellationToken);
}

/// <summary>Settings of the CLB's adapter, bound to <c>Recipients:clb</c>.</summary>
public sealed class ClbOptions : HttpRecipientOptions
{
    public const string Section = "Recipients:" + ClbAdapter.RecipientId;
}
