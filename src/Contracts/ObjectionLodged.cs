namespace IntegrationGateway.Contracts;

/// <summary>A subject (or their guardian) objected to processing (GDPR art. 21); agreements that stop on objection stop.</summary>
public sealed record ObjectionLodged
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

    /// <summary>The objection.</summary>
    public required Objection Objection { get; init; }
}

/// <summary>An objection to processing.</summary>
public sealed record Objection
{
    /// <summary>Date the objection was lodged.</summary>
    public required DateOnly LodgedOn { get; init; }

    /// <summary>Who objected: <c>subject</c> or <c>guardian</c>.</summary>
    public string? LodgedBy { get; init; }
}
