namespace IntegrationGateway.Contracts;

/// <summary>A subject (or their guardian) gave or withdrew consent for a purpose (GDPR art. 7); after withdrawal nothing more goes out on that consent.</summary>
public sealed record ConsentChanged
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

    /// <summary>The consent and its new status.</summary>
    public required ConsentChange Consent { get; init; }
}

/// <summary>A change of consent.</summary>
public sealed record ConsentChange
{
    /// <summary>The consent purpose, as agreements name it, e.g. <c>school-photos</c>.</summary>
    public required string Purpose { get; init; }

    /// <summary><c>given</c> or <c>withdrawn</c>.</summary>
    public required string Status { get; init; }

    /// <summary>Date of the change.</summary>
    public required DateOnly ChangedOn { get; init; }

    /// <summary>Who decided: <c>subject</c> or <c>guardian</c>.</summary>
    public string? GivenBy { get; init; }
}
