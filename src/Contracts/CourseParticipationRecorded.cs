namespace IntegrationGateway.Contracts;

/// <summary>Participation of an integration participant in a course (Dutch as a second language, civic orientation) is recorded.</summary>
public sealed record CourseParticipationRecorded
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

    /// <summary>The participation.</summary>
    public required CourseParticipation Participation { get; init; }
}

/// <summary>Participation in one course.</summary>
public sealed record CourseParticipation
{
    /// <summary>Course code.</summary>
    public required string CourseCode { get; init; }

    /// <summary>Course provider (institution id).</summary>
    public string? Provider { get; init; }

    /// <summary>First day of participation.</summary>
    public required DateOnly From { get; init; }

    /// <summary>Last day of participation, when ended.</summary>
    public DateOnly? To { get; init; }

    /// <summary>Hours scheduled.</summary>
    public decimal? HoursScheduled { get; init; }

    /// <summary>Hours attended.</summary>
    public decimal? HoursAttended { get; init; }

    /// <summary>Status: <c>ongoing</c>, <c>completed</c> or <c>stopped</c>.</summary>
    public required string Status { get; init; }
}
