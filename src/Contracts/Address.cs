namespace IntegrationGateway.Contracts;

/// <summary>A postal address.</summary>
public sealed record Address
{
    /// <summary>Street name.</summary>
    public string? Street { get; init; }

    /// <summary>House number including any addition, e.g. <c>12a</c>.</summary>
    public string? HouseNumber { get; init; }

    /// <summary>Postal code: <c>1234 AB</c> in the Netherlands, four digits in Belgium.</summary>
    public string? PostalCode { get; init; }

    /// <summary>City or municipality.</summary>
    public string? City { get; init; }

    /// <summary>ISO 3166-1 alpha-2 country code, e.g. <c>NL</c> or <c>BE</c>.</summary>
    public string? Country { get; init; }
}
