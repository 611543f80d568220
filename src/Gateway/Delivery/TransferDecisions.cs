using System.Text.Json;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Storage;
using IntegrationGateway.Gateway.Subjects;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>
/// The policy engine as the delivery path asks it, with what it needs to know looked up: the subject's state for a
/// routed event, the earlier recipients for a notice, and, for a parked transfer about to go out, the same again as of
/// now. The engine itself stays a pure function.
/// </summary>
public sealed class TransferDecisions(PolicyEngine engine, ControllerRegistry controllers, ISubjectRegistry subjects, SubjectNotices notices, RecipientAdapters adapters, AgreementApprovals approvals, Ledger.LedgerKeys keys, TimeProvider time)
{
    /// <summary>Why a transfer under the agreement is held now, if it is: its text not approved, or its review overdue (<see cref="AgreementApprovals.HoldReason"/>).</summary>
    public string? HoldReason(Agreement agreement) => approvals.HoldReason(agreement, PolicyEngine.LegalDate(time.GetUtcNow()));

    /// <summary>
    /// A notice (rectification, erasure) goes to the recipients that had the data; any other event to the recipients
    /// whose agreements route it, decided on what the subject has said to this event's controller (unknown means no
    /// consent given; what they said to another controller does not decide this one's transfers).
    /// </summary>
    /// <param name="eventId">The event's id: each recipient gets its own reference for it instead (<see cref="Ledger.LedgerKeys.TransferReference"/>).</param>
    /// <param name="facts">Type, jurisdiction, sender and controller.</param>
    /// <param name="body">The event as published (validated).</param>
    /// <param name="pseudonyms">The subject's pseudonyms.</param>
    /// <param name="cancellationToken">Cancelled at shutdown.</param>
    /// <param name="subjectState">What the subject said to the event's controller, when it was read already (with the event's sighting).</param>
    public async Task<IReadOnlyList<PolicyDecision>> DecideAsync(Guid eventId, EventFacts facts, JsonElement body, byte[][] pseudonyms, CancellationToken cancellationToken, SubjectState? subjectState = null)
    {
        TransferReferences references = recipient => keys.TransferReference(eventId, recipient);
        if (EventKinds.Of(facts.EventType).IsNotice())
        {
            return await notices.DecideAsync(facts, body, time.GetUtcNow(), adapters.TakesErasureNotices, references, cancellationToken).ConfigureAwait(false);
        }

        var subject = subjectState ?? (facts.Controller is { } controller ? await subjects.ForAsync(controller.Id, pseudonyms, cancellationToken).ConfigureAwait(false) : SubjectState.Unknown);
        return engine.Evaluate(facts, body, subject, time.GetUtcNow(), references);
    }

    /// <summary>
    /// A parked transfer decided again just before it is sent (<see cref="PolicyEngine.Redecide"/>): validity, the agreement
    /// removed or changed, (not for a notice, which the subject's choices do not stop) what the subject said since, and its
    /// payload under the agreement as configured now.
    /// </summary>
    public async Task<Redecision> RedecideAsync(ParkedTransfer parked, CancellationToken cancellationToken)
    {
        var transfer = parked.Transfer;
        var subject = EventKinds.Of(transfer.EventType).IsNotice() ? null : await subjects.ForAsync(parked.Context.Controller, parked.Context.SubjectPseudonyms, cancellationToken).ConfigureAwait(false);
        // The controller as configured now: one no longer party to the agreement sends nothing more under it.
        return engine.Redecide(transfer.AgreementId, parked.Recipient, transfer.EventType, transfer.Payload, ReferenceOf(transfer),
            parked.Context.Sender, controllers.ById(parked.Context.Controller), subject, time.GetUtcNow());
    }

    /// <summary>
    /// The recipient's reference a parked transfer goes out with: the one its key was made with, read from the key
    /// (<see cref="Adapters.OutboundTransfer.KeyFor"/>). A transfer parked before the gateway sent references has the
    /// event's id there (schema 15 and earlier): it goes out as it was first tried (null: its record is not given a
    /// reference now), so a recipient that had an attempt of it sees the same transfer again, not one key with another body.
    /// </summary>
    static Guid? ReferenceOf(Adapters.OutboundTransfer transfer) =>
        Guid.TryParse(transfer.IdempotencyKey.AsSpan(0, Math.Max(0, transfer.IdempotencyKey.IndexOf(':', StringComparison.Ordinal))), out var reference) && reference != transfer.EventId
            ? reference
            : null;
}

/// <summary>The subject of an event as the intake read it with the event's sighting: its pseudonyms and what it said to the controller.</summary>
public sealed record KnownSubject(byte[][] Pseudonyms, SubjectState State);
