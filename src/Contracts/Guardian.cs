namespace IntegrationGateway.Contracts;

/// <summary>A parent or guardian of a minor subject.</summary>
public sealed record Guardian
{
    /// <summary>Given name(s).</summary>
    public string? GivenName { get; init; }

    /// <summary>Family name.</summary>
    public string? FamilyName { get; init; }

    /// <summary>Relation to the subject: <c>parent</c>, <c>guardian</c> or <c>other</c>.</summary>
    public string? Relation { get; init; }

    /// <summary>Phone number.</summary>
    public string? Phone { get; init; }

    /// <summary>E-mail address.</summary>
    public string? Email { get; init; }
}
