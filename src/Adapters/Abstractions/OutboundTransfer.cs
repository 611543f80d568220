namespace IntegrationGateway.Adapters;

/// <summary>
/// One transfer to one recipient: the already-minimised record and what identifies the transfer.
/// An adapter never sees the original event, only <see cref="Payload"/>, which holds exactly the fields
/// the agreement allows.
/// </summary>
/// <param name="IdempotencyKey">The recipient's reference for the event + agreement id (<see cref="KeyFor"/>); the same across retries and replays.</param>
/// <param name="EventId">The event the transfer stems from, for the gateway's own records: never sent. Every recipient of
/// the event would get the same id, and could join its records of it with another's; the recipient's reference stands
/// in for it, in the idempotency key and, where the agreement allows <c>eventId</c>, in the record.</param>
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
    /// <summary>
    /// The hash of the agreement text the transfer goes out under (<c>sha256:</c>…, as <c>policy approve</c> names it),
    /// so the recipient can check which approved text its copy was sent under: in the JSON envelope.
    /// </summary>
    public string? AgreementHash { get; init; }

    /// <summary>
    /// The idempotency key of a transfer: the recipient's reference for the event (a keyed pseudonym of event and
    /// recipient, never the event's id) and the agreement, so two agreements with one recipient keep two transfers.
    /// Transfers parked before references were sent keep the key they were first tried with (the event's id).
    /// </summary>
    public static string KeyFor(Guid reference, string agreementId) => $"{reference:D}:{agreementId}";
}
