namespace IntegrationGateway.Contracts;

/// <summary>A student is enrolled at a school or adult-education centre.</summary>
public sealed record StudentEnrolled
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

    /// <summary>The enrolment.</summary>
    public required Enrolment Enrolment { get; init; }
}

/// <summary>An enrolment in a programme.</summary>
public sealed record Enrolment
{
    /// <summary>The programme or course, e.g. <c>havo</c>, <c>vwo</c>, <c>NT2 richtgraad 2</c>.</summary>
    public required string Programme { get; init; }

    /// <summary>School year, e.g. <c>2026-2027</c>.</summary>
    public string? SchoolYear { get; init; }

    /// <summary>Year within the programme (leerjaar), from 1.</summary>
    public int? Year { get; init; }

    /// <summary>Class or group, e.g. <c>3B</c>.</summary>
    public string? ClassName { get; init; }

    /// <summary>First day of the enrolment.</summary>
    public required DateOnly StartDate { get; init; }
}
