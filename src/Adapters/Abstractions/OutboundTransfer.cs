namespace IntegrationGateway.Adapters;

/// <summary>
/// One transfer to one recipient: the already-minimised record and what identifies the transfer.
/// An adapter never sees the original event, only <see cref="Payload"/>, which holds exactly the fields
/// the agreement allows.
/// </summary>
/// <param name="IdempotencyKey">Event id + agreement id; the same across retries and replays.</param>
/// <param name="EventId">The event the transfer stems from.</param>
/// <param name="EventType">The contract name of that event, e.g. <c>AbsenceReported</c>.</param>
/// <param name="AgreementId">The data-sharing agreement that allowed the transfer.</param>
/// <param name="Payload">The projected record as UTF-8 JSON: exactly the bytes the agreement allows.</param>
public sealed record OutboundTransfer(
    string IdempotencyKey,
    Guid EventId,
    string EventType,
    string AgreementId,
    ReadOnlyMemory<byte> Payload)
{
    public static string KeyFor(Guid eventId, string agreementId) => $"{eventId:D}:{agreementId}";
}
