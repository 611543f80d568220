namespace IntegrationGateway.Contracts;

/// <summary>A subject asked for erasure of their personal data (GDPR art. 17); recipients are to be told, and later transfers denied unless a legal obligation overrides.</summary>
public sealed record ErasureRequested
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

    /// <summary>The request.</summary>
    public required ErasureRequest Erasure { get; init; }
}

/// <summary>A request for erasure.</summary>
public sealed record ErasureRequest
{
    /// <summary>Date of the request.</summary>
    public required DateOnly RequestedOn { get; init; }

    /// <summary>Who asked: <c>subject</c> or <c>guardian</c>.</summary>
    public string? RequestedBy { get; init; }
}
