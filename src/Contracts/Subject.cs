namespace IntegrationGateway.Contracts;

/// <summary>The person an event is about: a student or an integration-programme participant.</summary>
public sealed record Subject
{
    /// <summary>The sender's own identifier for the person (student number, client number). Required.</summary>
    public required string LocalId { get; init; }

    /// <summary>Dutch citizen service number (BSN), used in education as the PGN. Nine digits passing the eleven-test. NL only.</summary>
    public string? Bsn { get; init; }

    /// <summary>
    /// Onderwijsnummer: the number DUO gives a Dutch pupil who has no BSN, used in its place as the PGN. Nine digits
    /// starting with 10, passing the onderwijsnummer's own check (the BSN's weighted sum, remainder 5). NL only; never
    /// together with a BSN.
    /// </summary>
    public string? Onderwijsnummer { get; init; }

    /// <summary>
    /// Belgian national register number (rijksregisternummer), eleven digits with a modulo-97 check, birth month 01 to
    /// 12 (00 when unknown). BE only. A BIS number goes in <see cref="Bisnummer"/>, not here.
    /// </summary>
    public string? Rijksregisternummer { get; init; }

    /// <summary>
    /// BIS number: the Crossroads Bank for Social Security's number for a person not in the national register; the
    /// rijksregisternummer's shape and check with the birth month raised by 20 or 40. BE only; its own permission in agreements.
    /// </summary>
    public string? Bisnummer { get; init; }

    /// <summary>Given name(s).</summary>
    public string? GivenName { get; init; }

    /// <summary>Family name, including any prefix (<c>van der</c>).</summary>
    public string? FamilyName { get; init; }

    /// <summary>Date of birth.</summary>
    public DateOnly? BirthDate { get; init; }

    /// <summary>Place of birth.</summary>
    public string? BirthPlace { get; init; }

    /// <summary>Gender as registered: <c>male</c>, <c>female</c>, <c>x</c> or <c>unknown</c>.</summary>
    public string? Gender { get; init; }

    /// <summary>Nationality, ISO 3166-1 alpha-2.</summary>
    public string? Nationality { get; init; }

    /// <summary>Home address.</summary>
    public Address? Address { get; init; }

    /// <summary>Phone number, international format preferred.</summary>
    public string? Phone { get; init; }

    /// <summary>E-mail address.</summary>
    public string? Email { get; init; }
}
