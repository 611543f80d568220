namespace IntegrationGateway.Adapters;

/// <summary>
/// Delivers minimised records to one recipient in its own wire format. Registered once per recipient;
/// the gateway picks the adapter by <see cref="Recipient"/>, the id that agreements name.
/// </summary>
public interface IRecipientAdapter
{
    /// <summary>The recipient id used in agreement files, e.g. <c>duo</c>.</summary>
    string Recipient { get; }

    /// <summary>
    /// Whether the recipient takes an erasure notice (<c>ErasureRequested</c>, GDPR art. 19) through this adapter.
    /// Rectifications (<c>PersonalDataRectified</c>) every adapter must carry; an erasure notice only some recipients
    /// have a way to receive: the others are recorded as not told, for a person to tell them.
    /// </summary>
    bool TakesErasureNotices => false;

    /// <summary>Makes one delivery attempt. Does not throw for recipient-side failures: they are in the result.</summary>
    Task<DeliveryResult> DeliverAsync(OutboundTransfer transfer, CancellationToken cancellationToken);
}
