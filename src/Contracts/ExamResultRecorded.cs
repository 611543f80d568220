namespace IntegrationGateway.Contracts;

/// <summary>A result of a school exam or central exam is recorded.</summary>
public sealed record ExamResultRecorded
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

    /// <summary>The exam and its result.</summary>
    public required ExamResult Exam { get; init; }
}

/// <summary>One exam result.</summary>
public sealed record ExamResult
{
    /// <summary>The exam subject code, e.g. <c>netl</c>, <c>wisb</c>.</summary>
    public required string SubjectCode { get; init; }

    /// <summary>Kind of exam: <c>school-exam</c> or <c>central-exam</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>Date of the exam.</summary>
    public required DateOnly Date { get; init; }

    /// <summary>The grade, 1.0 to 10.0.</summary>
    public decimal? Grade { get; init; }

    /// <summary>Whether the result counts as passed.</summary>
    public bool? Passed { get; init; }
}
