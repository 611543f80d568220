namespace IntegrationGateway.Contracts;

/// <summary>Attendance of an adult-education student over a period, per course (Flanders: reported to Departement Onderwijs).</summary>
public sealed record AttendanceRegistered
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

    /// <summary>The attendance over the period.</summary>
    public required Attendance Attendance { get; init; }
}

/// <summary>Attendance over one period for one course.</summary>
public sealed record Attendance
{
    /// <summary>First day of the period.</summary>
    public required DateOnly PeriodFrom { get; init; }

    /// <summary>Last day of the period; not before <see cref="PeriodFrom"/>.</summary>
    public required DateOnly PeriodTo { get; init; }

    /// <summary>Course code as registered with the department.</summary>
    public required string CourseCode { get; init; }

    /// <summary>Teaching hours scheduled in the period.</summary>
    public decimal? HoursScheduled { get; init; }

    /// <summary>Teaching hours attended.</summary>
    public decimal? HoursAttended { get; init; }

    /// <summary>Hours absent with a valid reason.</summary>
    public decimal? HoursAbsentAuthorised { get; init; }

    /// <summary>Hours absent without a valid reason.</summary>
    public decimal? HoursAbsentUnauthorised { get; init; }
}
