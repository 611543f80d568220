namespace IntegrationGateway.Contracts;

/// <summary>A student is awarded a diploma or certificate.</summary>
public sealed record DiplomaAwarded
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

    /// <summary>The diploma.</summary>
    public required Diploma Diploma { get; init; }
}

/// <summary>An awarded diploma or certificate.</summary>
public sealed record Diploma
{
    /// <summary>The programme the diploma is for, e.g. <c>havo</c>.</summary>
    public required string Programme { get; init; }

    /// <summary>Date of award.</summary>
    public required DateOnly Date { get; init; }

    /// <summary>Profile or track, e.g. <c>Natuur en Gezondheid</c>.</summary>
    public string? Profile { get; init; }
}
