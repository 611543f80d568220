namespace IntegrationGateway.Contracts;

/// <summary>A student's support plan (ontwikkelingsperspectief, OPP) is drawn up or changed.</summary>
public sealed record SupportPlanUpdated
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

    /// <summary>The support plan.</summary>
    public required SupportPlan SupportPlan { get; init; }
}

/// <summary>A support plan for a student who needs extra support.</summary>
public sealed record SupportPlan
{
    /// <summary>Date of the plan or its change.</summary>
    public required DateOnly Date { get; init; }

    /// <summary>Support level: <c>basic</c>, <c>extra</c> or <c>intensive</c>.</summary>
    public required string Level { get; init; }

    /// <summary>The goals of the plan, in words.</summary>
    public string? Goals { get; init; }

    /// <summary>Arrangements agreed, e.g. <c>extra time</c>, <c>remedial teaching</c>.</summary>
    public IReadOnlyList<string>? Arrangements { get; init; }

    /// <summary>Medical notes relevant to the support. Special-category data (GDPR art. 9): health.</summary>
    public string? MedicalNotes { get; init; }

    /// <summary>Referral by the municipality, when the support follows one.</summary>
    public Referral? Referral { get; init; }
}

/// <summary>A referral by the municipality (e.g. its family coach).</summary>
public sealed record Referral
{
    /// <summary>The municipality's reference of the referral.</summary>
    public required string ReferralId { get; init; }

    /// <summary>Date of the referral.</summary>
    public DateOnly? Date { get; init; }
}
