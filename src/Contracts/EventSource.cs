namespace IntegrationGateway.Contracts;

/// <summary>The institution and system that published an event.</summary>
public sealed record EventSource
{
    /// <summary>
    /// The publishing institution: a Dutch BRIN code (e.g. <c>12AB</c>, optionally with a two-digit branch, <c>12AB00</c>)
    /// or a Flemish institution number.
    /// </summary>
    public required string InstitutionId { get; init; }

    /// <summary>The name of the administration system that published the event, e.g. <c>Magister</c> or <c>WISA</c>.</summary>
    public required string System { get; init; }
}
