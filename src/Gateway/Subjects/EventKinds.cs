using IntegrationGateway.Contracts;

namespace IntegrationGateway.Gateway.Subjects;

/// <summary>What the gateway does with an event of a type. Decided here only; everything else asks.</summary>
public enum EventKind
{
    /// <summary>Routed to the recipients whose agreements cover it (enrolment, absence, ...).</summary>
    Routed,

    /// <summary>Changes what is known of the subject (consent, objection); nothing is transferred for it.</summary>
    StateOnly,

    /// <summary>A notice to the recipients that had the subject's data (a rectification, GDPR art. 19).</summary>
    Notice,

    /// <summary>Both: an erasure is applied to the subject's state, then noticed to earlier recipients.</summary>
    StateAndNotice,
}

public static class EventKinds
{
    public static EventKind Of(string eventType) => eventType switch
    {
        nameof(ConsentChanged) or nameof(ObjectionLodged) => EventKind.StateOnly,
        nameof(PersonalDataRectified) => EventKind.Notice,
        nameof(ErasureRequested) => EventKind.StateAndNotice,
        _ => EventKind.Routed,
    };

    /// <summary>Applied to the subject's state before anything is transferred.</summary>
    public static bool ChangesSubjectState(this EventKind kind) => kind is EventKind.StateOnly or EventKind.StateAndNotice;

    /// <summary>Goes to earlier recipients of the subject's data rather than by routing.</summary>
    public static bool IsNotice(this EventKind kind) => kind is EventKind.Notice or EventKind.StateAndNotice;

    /// <summary>Has transfers to decide and settle (everything but a consent or an objection).</summary>
    public static bool Transfers(this EventKind kind) => kind != EventKind.StateOnly;
}
