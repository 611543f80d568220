namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// A data-sharing agreement as read from its YAML file: which events go to which recipient, on which legal
/// ground, with which fields. Immutable once loaded.
/// </summary>
public sealed record Agreement
{
    public required string Id { get; init; }
    public required int Version { get; init; }
    public required string Recipient { get; init; }
    public required string Title { get; init; }

    /// <summary><c>NL</c> or <c>BE-VLG</c>: only events of this jurisdiction are routed.</summary>
    public required string Jurisdiction { get; init; }

    public required IReadOnlyList<string> EventTypes { get; init; }

    /// <summary>Institution ids allowed to send under this agreement; empty means every sender of the jurisdiction.</summary>
    public IReadOnlyList<string> Senders { get; init; } = [];

    public required IReadOnlyList<string> Purposes { get; init; }
    public required LegalBasis LegalBasis { get; init; }

    /// <summary>The allow-list: field paths from the event's JSON root. Nothing else leaves.</summary>
    public required FieldSelection Fields { get; init; }

    public DateOnly? ValidFrom { get; init; }

    /// <summary>Last day on which the agreement is valid (inclusive).</summary>
    public DateOnly? ValidUntil { get; init; }

    /// <summary>Where the agreement was read from, for messages that point a reader to it.</summary>
    public required string SourceFile { get; init; }
}

/// <summary>The lawful ground of an agreement.</summary>
/// <param name="Gdpr">GDPR art. 6(1) letter, e.g. <c>6(1)(c)</c>.</param>
/// <param name="Instrument">The law or decree article, Flemish protocol or authorisation that the transfer rests on.</param>
public sealed record LegalBasis(string Gdpr, string Instrument);
