using System.Collections.Frozen;
using System.Text.Json;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>Reason codes of a deny decision. Fixed: they are written to records and documented for readers.</summary>
public static class ReasonCodes
{
    /// <summary>The agreement names the senders it covers (controllers or kinds), and this controller is not one of them.</summary>
    public const string SenderNotCovered = "sender-not-covered";

    /// <summary>The agreement would route the event, but the event's controller is not party to it (deny by default).</summary>
    public const string ControllerNotParty = "controller-not-party";

    /// <summary>The agreement's validity starts after today.</summary>
    public const string AgreementNotYetValid = "agreement-not-yet-valid";

    /// <summary>The agreement's validity ended before today.</summary>
    public const string AgreementExpired = "agreement-expired";

    /// <summary>The ground is consent and the subject's consent for the purpose is not known.</summary>
    public const string ConsentMissing = "consent-missing";

    /// <summary>The ground is consent and the subject withdrew it.</summary>
    public const string ConsentWithdrawn = "consent-withdrawn";

    /// <summary>The subject objected, and the agreement stops on objection.</summary>
    public const string ObjectionLodged = "objection-lodged";

    /// <summary>The subject asked for erasure, and the agreement is not a legal obligation that overrides it.</summary>
    public const string SubjectErased = "subject-erased";

    /// <summary>The recipient processes outside the EEA without a named adequacy decision or art. 46 safeguard.</summary>
    public const string OutsideEea = "outside-eea";

    /// <summary>An erasure notice is owed, but the recipient's adapter takes none: the recipient must be told another way.</summary>
    public const string NoticeNotSupported = "notice-not-supported";

    /// <summary>A parked transfer's agreement is no longer configured (or names another recipient): it is not sent.</summary>
    public const string AgreementRemoved = "agreement-removed";

    /// <summary>The transfer is allowed, but its agreement's content (by its hash) is not approved by a DPO yet: it is held, not sent.</summary>
    public const string AwaitingApproval = "awaiting-approval";

    /// <summary>
    /// The transfer is allowed, but its agreement was due for review by its <c>reviewBy</c> day, which has passed: held,
    /// not sent, until the DPO approves a reviewed text (a new <c>reviewBy</c> is a new text, with a hash of its own).
    /// </summary>
    public const string ReviewOverdue = "review-overdue";

    /// <summary>A transfer decided earlier is about to be sent, and its agreement no longer routes the event's type: the agreement changed under it.</summary>
    public const string AgreementChanged = "agreement-changed";

    /// <summary>The agreement's instrument lacks a part its kind needs (<c>policy lint</c> names it): nobody can check what the transfer rests on.</summary>
    public const string InstrumentIncomplete = "instrument-incomplete";

    public static readonly IReadOnlyList<string> All =
        [ControllerNotParty, SenderNotCovered, AgreementNotYetValid, AgreementExpired, InstrumentIncomplete, ConsentMissing, ConsentWithdrawn, ObjectionLodged, SubjectErased, OutsideEea, NoticeNotSupported, AgreementRemoved, AgreementChanged, AwaitingApproval, ReviewOverdue];
}

/// <summary>What the engine needs to know about an event besides its body.</summary>
/// <param name="EventType">Contract name, e.g. <c>AbsenceReported</c>.</param>
/// <param name="Jurisdiction"><c>NL</c> or <c>BE-VLG</c>.</param>
/// <param name="InstitutionId">The sending institution, as the event names it.</param>
/// <param name="Controller">The controller the intake authenticated the event as from; null: none, and nothing routes.</param>
public sealed record EventFacts(string EventType, string Jurisdiction, string InstitutionId, Controller? Controller)
{
    /// <summary>Reads the facts from the common part of an event's JSON, with the controller the intake authenticated.</summary>
    public static EventFacts Of(string eventType, JsonElement body, Controller? controller) => new(
        eventType,
        body.StringProperty("jurisdiction") ?? "",
        InstitutionOf(body),
        controller);

    public static string InstitutionOf(JsonElement body) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty("source", out var source) ? source.StringProperty("institutionId") ?? "" : "";
}

/// <summary>
/// The reference each recipient gets for the event being decided, in place of its id (<see cref="FieldSelection.Project"/>):
/// in the gateway <see cref="Ledger.LedgerKeys.TransferReference"/> of the event and the recipient.
/// </summary>
public delegate Guid TransferReferences(string recipient);

/// <summary>The decision for one agreement that routes the event: allow with the minimised payload, or deny with reasons.</summary>
/// <param name="Agreement">The agreement that routes the event.</param>
/// <param name="Reasons">Why the transfer is denied; empty on allow.</param>
/// <param name="Payload">The exact UTF-8 JSON bytes to send, on allow only.</param>
public sealed record PolicyDecision(Agreement Agreement, IReadOnlyList<string> Reasons, byte[]? Payload)
{
    public bool Allowed => Payload is not null;

    /// <summary>What the payload was projected with: the agreement's allow-list, or a notice's narrower selection.</summary>
    public FieldSelection Fields { get; init; } = Agreement.Fields;

    /// <summary>The recipient's reference for the event, on allow: in the payload in place of its id, and in the transfer's idempotency key.</summary>
    public Guid Reference { get; init; }

    /// <summary>
    /// Sorts the event's leaves into what this decision discloses and what it withholds (everything, on deny), as the
    /// ledger and <c>policy evaluate</c> record them.
    /// </summary>
    public void Classify(string eventType, JsonElement body, ISet<string> disclosed, ISet<string> withheld)
    {
        Fields.Classify(eventType, body, disclosed, withheld);
        if (!Allowed)
        {
            withheld.UnionWith(disclosed); // nothing leaves
            disclosed.Clear();
        }
    }
}

/// <summary>A transfer decided again before it is sent.</summary>
/// <param name="Reasons">Why it may not be sent now; empty: it may.</param>
/// <param name="Agreement">The agreement as configured now; null when it is gone.</param>
/// <param name="Narrowed">The payload projected under the agreement as it is now, when that differs from the one decided
/// earlier (a field the agreement no longer allows stays behind); null when it is the same.</param>
public sealed record Redecision(IReadOnlyList<string> Reasons, Agreement? Agreement, byte[]? Narrowed)
{
    /// <summary>With a narrowed payload: the fields it still carries, and those of the earlier one it leaves behind.</summary>
    public IReadOnlyList<string> Disclosed { get; init; } = [];

    public IReadOnlyList<string> Withheld { get; init; } = [];
}

/// <summary>
/// Decides, per agreement, whether an event may be transferred and builds the minimised payload. A pure function
/// of (event, agreements, subject state, time): no I/O, no clock of its own. Deny by default: an event that no
/// agreement routes gets no decision, and therefore no transfer; an agreement that routes it allows only when no
/// reason speaks against it.
/// </summary>
public sealed class PolicyEngine
{
    // Agreement dates are calendar days in the Dutch and Flemish legal orders, which share this zone.
    static readonly TimeZoneInfo LegalTimeZone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");

    readonly FrozenDictionary<string, Agreement[]> _byEventType;

    public PolicyEngine(IReadOnlyList<Agreement> agreements)
    {
        Agreements = agreements;
        _byEventType = agreements
            .SelectMany(a => a.EventTypes.Select(t => (Type: t, Agreement: a)))
            .GroupBy(x => x.Type, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.Select(x => x.Agreement).ToArray(), StringComparer.Ordinal);
    }

    public IReadOnlyList<Agreement> Agreements { get; }

    public IReadOnlyList<PolicyDecision> Evaluate(EventFacts facts, JsonElement body, SubjectState subject, DateTimeOffset at, TransferReferences references)
    {
        if (!_byEventType.TryGetValue(facts.EventType, out var candidates))
        {
            return [];
        }

        var today = LegalDate(at);
        var decisions = new List<PolicyDecision>(candidates.Length);
        foreach (var agreement in candidates)
        {
            if (!string.Equals(agreement.Jurisdiction, facts.Jurisdiction, StringComparison.Ordinal) || !Concerns(agreement, body))
            {
                continue; // another legal order, or not the kind of event it is about: this agreement does not concern it
            }

            var reasons = Reasons(agreement, facts, subject, today);
            decisions.Add(reasons is null
                ? Allow(agreement, agreement.Fields, facts.EventType, body, references)
                : new PolicyDecision(agreement, reasons, null));
        }

        return decisions;
    }

    /// <summary>
    /// A notice (a rectification or an erasure, GDPR art. 19) under an agreement that earlier carried the subject's
    /// data: projected with <paramref name="fields"/>, the part of the agreement's allow-list the notice needs. The
    /// agreement must still be in force (valid, this sender, a lawful region); the subject's consent, objection and
    /// erasure do not stop it, for the notice is owed because of them.
    /// </summary>
    public PolicyDecision DecideNotice(Agreement agreement, EventFacts facts, JsonElement body, FieldSelection fields, DateTimeOffset at, TransferReferences references) =>
        Reasons(agreement, facts, subject: null, LegalDate(at)) is { } reasons
            ? new PolicyDecision(agreement, reasons, null) { Fields = fields }
            : Allow(agreement, fields, facts.EventType, body, references);

    static PolicyDecision Allow(Agreement agreement, FieldSelection fields, string eventType, JsonElement body, TransferReferences references)
    {
        var reference = references(agreement.Recipient);
        return new(agreement, [], fields.Project(eventType, body, reference)) { Fields = fields, Reference = reference };
    }

    /// <summary>
    /// The agreement of that id as configured now, if it still names that recipient: a transfer made under it earlier
    /// belongs to that recipient, not to whichever recipient the agreement names since.
    /// </summary>
    public Agreement? AgreementFor(string agreementId, string recipient) =>
        Agreements.FirstOrDefault(a => a.Id == agreementId && a.Recipient == recipient);

    /// <summary>
    /// A transfer decided earlier (parked, now due, or replayed), decided again just before it is sent, as of
    /// <paramref name="at"/>, on what can change since: the agreement's validity and terms, and what the subject said
    /// (<paramref name="subject"/> null for a notice, which their choices do not stop); routing (jurisdiction, conditions
    /// on the event) stays as it was decided. And its payload projected again under the agreement as configured now, so it never
    /// carries a field the agreement no longer allows (the projection of a projection keeps what both versions allow,
    /// and the same version gives the same bytes). An agreement that no longer routes the event's type stops it
    /// (<see cref="ReasonCodes.AgreementChanged"/>). <paramref name="payload"/> is the payload as projected when the transfer
    /// was decided, under the agreement as it was then; <paramref name="reference"/> the recipient's reference for the
    /// event, which the payload carries in place of the event's id as it did when decided (null for a transfer parked
    /// before the gateway sent references: it keeps what it was first tried with).
    /// </summary>
    public Redecision Redecide(string agreementId, string recipient, string eventType, ReadOnlyMemory<byte> payload, Guid? reference, string sender, Controller? controller, SubjectState? subject, DateTimeOffset at)
    {
        if (AgreementFor(agreementId, recipient) is not { } agreement)
        {
            return new([ReasonCodes.AgreementRemoved], null, null);
        }

        // A notice (no subject: their choices do not stop it) travels under an agreement that routes other events, with
        // the notice's own selection: its type is not the agreement's, and it is not projected again.
        var notice = subject is null;
        if (!notice && !agreement.EventTypes.Contains(eventType, StringComparer.Ordinal))
        {
            return new([ReasonCodes.AgreementChanged], agreement, null);
        }

        if (Reasons(agreement, new EventFacts(eventType, agreement.Jurisdiction, sender, controller), subject, LegalDate(at)) is { } reasons)
        {
            return new(reasons, agreement, null);
        }

        if (notice)
        {
            return new([], agreement, null);
        }

        using var earlier = JsonDocument.Parse(payload);
        // What the agreement routes may have narrowed too: a condition on a field the payload carries must still hold
        // (a sickness absence parked under a text without 'absence.kind = unauthorised' does not go out under one with it).
        if (agreement.When.Any(c => c.HoldsIfCarried(earlier.RootElement) == false))
        {
            return new([ReasonCodes.AgreementChanged], agreement, null);
        }

        var now = agreement.Fields.Project(eventType, earlier.RootElement, reference);
        if (payload.Span.SequenceEqual(now))
        {
            return new([], agreement, null);
        }

        var disclosed = new SortedSet<string>(StringComparer.Ordinal);
        var withheld = new SortedSet<string>(StringComparer.Ordinal);
        agreement.Fields.Classify(eventType, earlier.RootElement, disclosed, withheld);
        return new([], agreement, now) { Disclosed = [.. disclosed], Withheld = [.. withheld] };
    }

    static bool Concerns(Agreement agreement, JsonElement body)
    {
        foreach (var condition in agreement.When)
        {
            if (!condition.HoldsFor(body))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The calendar day in the legal time zone. Its offset changes only on whole UTC hours, so the day is cached per
    /// UTC hour: the conversion is not cheap, and events come in bursts of the same hour.
    /// </summary>
    public static DateOnly LegalDate(DateTimeOffset at)
    {
        var hour = at.UtcTicks / TimeSpan.TicksPerHour;
        var cached = s_lastDate;
        if (cached is not null && cached.Hour == hour)
        {
            return cached.Date;
        }

        var date = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, LegalTimeZone).DateTime);
        s_lastDate = new HourDate(hour, date);
        return date;
    }

    sealed record HourDate(long Hour, DateOnly Date);

    static HourDate? s_lastDate;

    static readonly IReadOnlyList<string> NotParty = Array.AsReadOnly([ReasonCodes.ControllerNotParty]);

    /// <summary>Why the agreement does not allow the transfer; null when nothing speaks against it. Without a subject, only the agreement's own terms count.</summary>
    static IReadOnlyList<string>? Reasons(Agreement agreement, EventFacts facts, SubjectState? subject, DateOnly today)
    {
        List<string>? reasons = null;
        void Add(string reason) => (reasons ??= new List<string>(2)).Add(reason);

        // The controller must be party to the agreement (its registry entry says so) and, when the agreement names
        // its senders, be one of them by id or kind: both, so neither file alone makes a controller a sender. Not for a
        // notice (no subject given): one that has left an agreement still tells the recipients it sent data to (art. 19);
        // which recipients those are, the ledger says for this controller alone.
        if (subject is null)
        {
            if (facts.Controller is null)
            {
                return NotParty;
            }
        }
        else if (facts.Controller is not { } controller || !controller.PartyTo(agreement.Id))
        {
            // Alone: the agreement is not this controller's, so what its terms or this subject would say is beside the point.
            return NotParty;
        }
        else if (!ControllerLoader.Covers(agreement, controller))
        {
            Add(ReasonCodes.SenderNotCovered);
        }

        if (today < agreement.ValidFrom)
        {
            Add(ReasonCodes.AgreementNotYetValid);
        }

        if (today > agreement.ValidUntil)
        {
            Add(ReasonCodes.AgreementExpired);
        }

        // Not for a notice: a recipient that had the data is owed it (art. 19), whatever the text's state now.
        if (subject is not null && !agreement.LegalBasis.Instrument.IsComplete)
        {
            Add(ReasonCodes.InstrumentIncomplete);
        }

        if (subject is null)
        {
            // A notice: the subject's own choices do not stop it.
        }
        else if (agreement.IsConsentBased)
        {
            if (!subject.Consents.TryGetValue(agreement.ConsentPurpose ?? "", out var consent))
            {
                Add(ReasonCodes.ConsentMissing);
            }
            else if (consent == ConsentStatus.Withdrawn)
            {
                Add(ReasonCodes.ConsentWithdrawn);
            }
        }

        if (agreement.ObjectionStops && subject is { Objected: true })
        {
            Add(ReasonCodes.ObjectionLodged);
        }

        if (subject is { Erased: true } && !agreement.LegalBasis.OverridesErasure)
        {
            Add(ReasonCodes.SubjectErased);
        }

        if (!agreement.Transfer.Lawful)
        {
            Add(ReasonCodes.OutsideEea);
        }

        return reasons;
    }
}
