namespace IntegrationGateway.Contracts;

/// <summary>Personal data of a subject was corrected at the source (GDPR art. 16); recipients that received the old values are to be told (art. 19). The common part carries the corrected values.</summary>
public sealed record PersonalDataRectified
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

    /// <summary>What was corrected.</summary>
    public required Rectification Rectification { get; init; }
}

/// <summary>A correction of personal data.</summary>
public sealed record Rectification
{
    /// <summary>Date of the correction.</summary>
    public required DateOnly Date { get; init; }

    /// <summary>The field paths that changed, e.g. <c>subject.address</c>, <c>subject.familyName</c>.</summary>
    public required IReadOnlyList<string> ChangedFields { get; init; }
}
