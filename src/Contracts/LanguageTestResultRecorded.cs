namespace IntegrationGateway.Contracts;

/// <summary>A language test result of an integration participant is recorded (NT2 screening or level test).</summary>
public sealed record LanguageTestResultRecorded
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

    /// <summary>The test and its result.</summary>
    public required LanguageTest Test { get; init; }
}

/// <summary>A language test and its result.</summary>
public sealed record LanguageTest
{
    /// <summary>Date of the test.</summary>
    public required DateOnly Date { get; init; }

    /// <summary>Kind of test: <c>latin-script</c>, <c>cognitive</c> or <c>nt2-level</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>The result as the test reports it, e.g. <c>passed</c> or a score.</summary>
    public string? Result { get; init; }

    /// <summary>CEFR level reached, e.g. <c>A2</c>.</summary>
    public string? Level { get; init; }
}
