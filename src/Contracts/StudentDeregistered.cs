namespace IntegrationGateway.Contracts;

/// <summary>A student leaves a school or adult-education centre.</summary>
public sealed record StudentDeregistered
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

    /// <summary>The deregistration.</summary>
    public required Deregistration Deregistration { get; init; }
}

/// <summary>The end of an enrolment.</summary>
public sealed record Deregistration
{
    /// <summary>Last day of the enrolment.</summary>
    public required DateOnly Date { get; init; }

    /// <summary>Why: <c>graduated</c>, <c>moved</c>, <c>transferred</c>, <c>dropped-out</c> or <c>other</c>.</summary>
    public required string Reason { get; init; }

    /// <summary>The institution the student moves to, when known (BRIN or Flemish institution number).</summary>
    public string? DestinationInstitutionId { get; init; }
}
