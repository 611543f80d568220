namespace IntegrationGateway.Gateway.Policy;

/// <summary>Whether a subject gave or withdrew consent for a purpose.</summary>
public enum ConsentStatus
{
    Given,
    Withdrawn,
}

/// <summary>
/// What the gateway knows of a subject's own choices: consents per purpose, an objection (art. 21), an erasure
/// request (art. 17). Nothing known means no consent, no objection, no erasure.
/// </summary>
public sealed record SubjectState
{
    public static readonly SubjectState Unknown = new();

    public IReadOnlyDictionary<string, ConsentStatus> Consents { get; init; } = new Dictionary<string, ConsentStatus>();
    public bool Objected { get; init; }
    public bool Erased { get; init; }
}
