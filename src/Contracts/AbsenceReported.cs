namespace IntegrationGateway.Contracts;

/// <summary>
/// A school reports a period of absence of a student. Routed, among others, to DUO's absence register
/// (verzuimregister) and the municipal compulsory-education officer.
/// </summary>
public sealed record AbsenceReported
{
    /// <summary>Unique id of this event (UUID). Publishing the same event again must reuse it: it is the basis of idempotency.</summary>
    public required Guid EventId { get; init; }

    /// <summary>When the reported fact happened or was recorded at the source, in UTC.</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The publishing institution and system.</summary>
    public required EventSource Source { get; init; }

    /// <summary>The legal order the sender works under: <c>NL</c> or <c>BE-VLG</c>.</summary>
    public required string Jurisdiction { get; init; }

    /// <summary>The student.</summary>
    public required Subject Subject { get; init; }

    /// <summary>Parents or guardians, when the student is a minor.</summary>
    public IReadOnlyList<Guardian>? Guardians { get; init; }

    /// <summary>The absence itself.</summary>
    public required Absence Absence { get; init; }
}

/// <summary>A period of absence.</summary>
public sealed record Absence
{
    /// <summary>First day of the absence.</summary>
    public required DateOnly From { get; init; }

    /// <summary>Last day of the absence; not before <see cref="From"/>.</summary>
    public required DateOnly To { get; init; }

    /// <summary>Kind of absence: <c>unauthorised</c>, <c>sickness</c> or <c>other</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>Number of teaching hours missed.</summary>
    public decimal? Hours { get; init; }

    /// <summary>Free-text remark by the school. May contain personal details; few agreements allow it.</summary>
    public string? Remark { get; init; }
}
