namespace IntegrationGateway.Contracts;

/// <summary>A person under temporary protection is registered in the joint registration tool (Centrale Registratietool) of Atlas, IN-Gent and Huis van het Nederlands Brussel.</summary>
public sealed record TemporaryProtectionRegistered
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

    /// <summary>The registration.</summary>
    public required TemporaryProtection Protection { get; init; }
}

/// <summary>A registration of temporary protection.</summary>
public sealed record TemporaryProtection
{
    /// <summary>Date of the registration.</summary>
    public required DateOnly RegisteredOn { get; init; }

    /// <summary>Start of the protection status.</summary>
    public DateOnly? ValidFrom { get; init; }

    /// <summary>End of the protection status, when known; not before <see cref="ValidFrom"/>.</summary>
    public DateOnly? ValidUntil { get; init; }

    /// <summary>Municipality of residence.</summary>
    public string? Municipality { get; init; }

    /// <summary>Number of people in the household.</summary>
    public int? HouseholdSize { get; init; }
}
