namespace IntegrationGateway.Contracts;

/// <summary>An integration agency completes the intake of a participant in a civic-integration trajectory (Flanders: recorded in the Kruispuntbank Inburgering).</summary>
public sealed record IntegrationIntakeCompleted
{
    /// <summary>Unique id of this event (UUID). Publishing the same event again must reuse it: it is the basis of idempotency.</summary>
    public required Guid EventId { get; init; }

    /// <summary>When the reported fact happened or was recorded at the source, in UTC.</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The publishing institution and system.</summary>
    public required EventSource Source { get; init; }

    /// <summary>The legal order the sender works under: <c>NL</c> or <c>BE-VLG</c>.</summary>
    public required string Jurisdiction { get; init; }

    /// <summary>The person the event is about.</summary>
    public required Subject Subject { get; init; }

    /// <summary>Parents or guardians, when the subject is a minor.</summary>
    public IReadOnlyList<Guardian>? Guardians { get; init; }

    /// <summary>The intake.</summary>
    public required Intake Intake { get; init; }
}

/// <summary>What the intake established.</summary>
public sealed record Intake
{
    /// <summary>Date of the intake.</summary>
    public required DateOnly Date { get; init; }

    /// <summary>Language the participant wants to be contacted in (ISO 639-1).</summary>
    public string? ContactLanguage { get; init; }

    /// <summary>Languages the participant knows (ISO 639-1).</summary>
    public IReadOnlyList<string>? Languages { get; init; }

    /// <summary>Literacy: <c>literate</c>, <c>literate-other-script</c>, <c>illiterate</c>.</summary>
    public string? Literacy { get; init; }

    /// <summary>Highest education level attained, e.g. <c>primary</c>, <c>secondary</c>, <c>higher</c>.</summary>
    public string? EducationLevel { get; init; }

    /// <summary>Work situation, e.g. <c>employed</c>, <c>job-seeker</c>, <c>student</c>, <c>other</c>.</summary>
    public string? WorkSituation { get; init; }

    /// <summary>Why the participant learns Dutch, e.g. <c>work</c>, <c>study</c>, <c>social</c>.</summary>
    public string? ReasonForLearningDutch { get; init; }

    /// <summary>Whether childcare is needed to attend.</summary>
    public bool? ChildcareNeeded { get; init; }

    /// <summary>Whether the participant wants a buddy.</summary>
    public bool? BuddyNeeded { get; init; }

    /// <summary>Residence status.</summary>
    public ResidenceStatus? ResidenceStatus { get; init; }
}

/// <summary>A residence status with its period.</summary>
public sealed record ResidenceStatus
{
    /// <summary>Kind of status, e.g. <c>refugee</c>, <c>family-reunification</c>, <c>temporary-protection</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>Start of the status.</summary>
    public DateOnly? From { get; init; }

    /// <summary>End of the status, when limited.</summary>
    public DateOnly? Until { get; init; }
}
