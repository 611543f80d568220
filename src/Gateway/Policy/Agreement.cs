namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// A data-sharing agreement as read from its YAML file: which events go to which recipient, on which legal
/// ground, with which fields, for how long and where. Immutable once loaded. The file format is documented in
/// <c>deploy/config/agreements/README.md</c>.
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

    /// <summary>
    /// Conditions on the event's content that must all hold for the agreement to concern the event at all (e.g. only
    /// unauthorised absence). An event that does not meet them is not routed by this agreement.
    /// </summary>
    public IReadOnlyList<RouteCondition> When { get; init; } = [];

    /// <summary>Institution ids allowed to send under this agreement; empty means every sender of the jurisdiction.</summary>
    public IReadOnlyList<string> Senders { get; init; } = [];

    public required IReadOnlyList<string> Purposes { get; init; }
    public required LegalBasis LegalBasis { get; init; }

    /// <summary>The consent purpose the subject must have consented to, when the ground is consent.</summary>
    public string? ConsentPurpose { get; init; }

    /// <summary>National identifiers (<c>bsn</c>, <c>rijksregisternummer</c>) the agreement may carry, each with the instrument permitting it.</summary>
    public IReadOnlyDictionary<string, string> Identifiers { get; init; } = new Dictionary<string, string>();

    /// <summary>Whether an objection of the subject (GDPR art. 21) stops transfers under this agreement.</summary>
    public bool ObjectionStops { get; init; }

    /// <summary>The allow-list: field paths from the event's JSON root. Nothing else leaves.</summary>
    public required FieldSelection Fields { get; init; }

    /// <summary>
    /// The allow-list entries that admit an object whole (path → the reason the agreement gives): every member its
    /// contract declares, including members a later contract adds that no DPO has reviewed. Any other object path is
    /// refused by the lint (<c>whole-object</c>): an agreement lists the leaves its purpose needs.
    /// </summary>
    public IReadOnlyDictionary<string, string> WholeObjects { get; init; } = new Dictionary<string, string>();

    public DateOnly? ValidFrom { get; init; }

    /// <summary>Last day on which the agreement is valid (inclusive).</summary>
    public DateOnly? ValidUntil { get; init; }

    /// <summary>The day by which the data-protection officer reviews the agreement again (inclusive); past it, <c>policy lint</c> refuses it.</summary>
    public required DateOnly ReviewBy { get; init; }

    /// <summary>How long the recipient keeps the data.</summary>
    public required Retention Retention { get; init; }

    /// <summary>Where the recipient processes the data.</summary>
    public required TransferRegion Transfer { get; init; }

    /// <summary>The agreement's content as canonical JSON (<see cref="AgreementContent"/>): what a DPO approves.</summary>
    public string Canonical { get; init; } = "";

    /// <summary><c>sha256:...</c> of <see cref="Canonical"/>: names this exact text in approvals and on every ledger entry under it.</summary>
    public string Hash { get; init; } = "";

    /// <summary>Where the agreement was read from, for messages that point a reader to it.</summary>
    public required string SourceFile { get; init; }

    /// <summary>Line of each key in the file (<c>fields[2]</c> for list entries), for lint messages.</summary>
    public IReadOnlyDictionary<string, int> Lines { get; init; } = new Dictionary<string, int>();

    /// <summary>
    /// The allow-list entries that let free text leave (path → the reason the agreement gives). A person's own words may
    /// say anything, special categories too: free text counts as possibly special, and leaves only where listed so.
    /// </summary>
    public IReadOnlyDictionary<string, string> FreeText { get; init; } = new Dictionary<string, string>();

    public int LineOf(string key) => Lines.TryGetValue(key, out var line) ? line : 1;

    /// <summary>
    /// The special-category data (GDPR art. 9) this agreement can disclose, per allow-list entry: a field whose every
    /// value is (<c>supportPlan.medicalNotes</c>); a field with a special value its <c>when</c> conditions do not rule
    /// out (<c>absence.kind</c> can be <c>sickness</c> unless the agreement routes only another kind); free text.
    /// </summary>
    public IEnumerable<SpecialDisclosure> SpecialData(EventCatalogue catalogue)
    {
        var routed = EventTypes.Where(catalogue.Knows).ToList();
        for (var i = 0; i < Fields.Paths.Count; i++)
        {
            var path = Fields.Paths[i];
            foreach (var leaf in routed.SelectMany(t => catalogue.LeavesUnder(t, path)).DistinctBy(f => f.Path))
            {
                if (leaf.SpecialCategory is { } category)
                {
                    yield return new(i, path, leaf.Path, category, $"{leaf.Path} is {category} data");
                }

                foreach (var special in leaf.SpecialValues.Where(v => !When.Any(c => c.Path == leaf.Path && c.EqualsValue is { } only && only != v.Value)))
                {
                    yield return new(i, path, leaf.Path, special.Category, $"{leaf.Path} = {special.Value} is {special.Category} data ({special.Why}), and 'when' does not rule it out");
                }

                if (leaf.FreeText)
                {
                    yield return new(i, path, leaf.Path, "possibly special (free text)", $"{leaf.Path} is free text, which may say anything, a special category too");
                }
            }
        }
    }

    public bool IsConsentBased => LegalBasis.Gdpr == LegalBasis.Consent || LegalBasis.Art9Ground == LegalBasis.ExplicitConsent;
}

/// <summary>Special-category data an agreement can disclose: through its allow-list entry <paramref name="Entry"/> (at <paramref name="Index"/>), the field <paramref name="Field"/>.</summary>
public sealed record SpecialDisclosure(int Index, string Entry, string Field, string Category, string What);

/// <summary>
/// A condition on one field of the event: it equals a given string (<c>equals</c>) or is present and not null
/// (<c>present: true</c>; a list named by its plain name must also hold something). The path is a dot path through objects.
/// </summary>
/// <param name="Path">Dot path of the field.</param>
/// <param name="EqualsValue">The string it must equal; null for <c>present</c> and <c>youngerThan</c>.</param>
/// <param name="YoungerThanYears">With a date field (a birth date): the person is younger than this many years on the
/// day the event occurred (<c>occurredAt</c>). No date, or no moment of the event, does not hold: deny by default.</param>
public sealed record RouteCondition(string Path, string? EqualsValue, int? YoungerThanYears = null)
{
    readonly byte[][] _segments = Path.Split('.').Select(System.Text.Encoding.UTF8.GetBytes).ToArray();

    public bool HoldsFor(System.Text.Json.JsonElement body)
    {
        var value = body;
        foreach (var segment in _segments)
        {
            if (value.ValueKind != System.Text.Json.JsonValueKind.Object || !value.TryGetProperty(segment, out value))
            {
                return false;
            }
        }

        if (YoungerThanYears is { } years)
        {
            return value.ValueKind == System.Text.Json.JsonValueKind.String
                && DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var date)
                && body.ValueKind == System.Text.Json.JsonValueKind.Object && body.TryGetProperty("occurredAt", out var occurred) && occurred.ValueKind == System.Text.Json.JsonValueKind.String && occurred.TryGetDateTimeOffset(out var at)
                && date.AddYears(years) > DateOnly.FromDateTime(at.UtcDateTime);
        }

        // Present: not null, and for a list, not empty (no guardians is no guardian).
        return EqualsValue is null
            ? value.ValueKind != System.Text.Json.JsonValueKind.Null && !(value.ValueKind == System.Text.Json.JsonValueKind.Array && value.GetArrayLength() == 0)
            : value.ValueKind == System.Text.Json.JsonValueKind.String && value.ValueEquals(EqualsValue);
    }

    /// <summary>
    /// On a payload projected earlier: whether the condition holds, when the payload carries the field it is about; null
    /// when it does not (the routing decided on the event stands).
    /// </summary>
    public bool? HoldsIfCarried(System.Text.Json.JsonElement payload)
    {
        var value = payload;
        foreach (var segment in _segments)
        {
            if (value.ValueKind != System.Text.Json.JsonValueKind.Object || !value.TryGetProperty(segment, out value))
            {
                return null;
            }
        }

        // An age counts on the day the event occurred: without that day in the payload it cannot be told again.
        return YoungerThanYears is not null && !payload.TryGetProperty("occurredAt", out _) ? null : HoldsFor(payload);
    }

    public override string ToString() =>
        YoungerThanYears is { } years ? $"{Path} younger than {years} years when the event occurred"
        : EqualsValue is null ? $"{Path} is present" : $"{Path} = {EqualsValue}";
}

/// <summary>The lawful ground of an agreement.</summary>
/// <param name="Gdpr">GDPR art. 6(1) letter, e.g. <c>6(1)(c)</c>.</param>
/// <param name="Instrument">The law or decree article, Flemish protocol, authorisation, contract or consent that the transfer rests on.</param>
/// <param name="Art9Ground">The GDPR art. 9(2) ground, when special-category fields are listed, e.g. <c>9(2)(a)</c>.</param>
/// <param name="OverridesErasure">A legal obligation that continues after the subject asked for erasure (only with 6(1)(c)).</param>
public sealed record LegalBasis(string Gdpr, LegalInstrument Instrument, string? Art9Ground = null, bool OverridesErasure = false)
{
    public const string Consent = "6(1)(a)";
    public const string LegalObligation = "6(1)(c)";
    public const string ExplicitConsent = "9(2)(a)";

    /// <summary>
    /// The ground as the ledger records it: "GDPR 6(1)(c); Leerplichtwet 1969, art. 21a (...)[; art. 9 ...]". Written once,
    /// when the agreement is read, not for every decision (nothing copies a legal basis with changes).
    /// </summary>
    public string Cited { get; } = $"GDPR {Gdpr}; {Instrument}" + (Art9Ground is { } art9 ? $"; art. 9 {art9}" : "");

    public static readonly IReadOnlyDictionary<string, string> Grounds = new Dictionary<string, string>
    {
        [Consent] = "consent",
        ["6(1)(b)"] = "performance of a contract",
        [LegalObligation] = "legal obligation",
        ["6(1)(d)"] = "vital interests",
        ["6(1)(e)"] = "public task",
        ["6(1)(f)"] = "legitimate interests",
    };
}

/// <summary>
/// The instrument a transfer rests on, in parts a DPO can check against its publication: what kind it is, how it is
/// cited, the article, its number, its date, where it is published. Each kind has the parts without which it cannot be
/// found (<see cref="RequiredParts"/>); an agreement whose instrument lacks one is not in force
/// (<c>instrument-incomplete</c>): its transfers are denied, and <c>policy lint</c> names what is missing.
/// </summary>
/// <param name="Kind">One of <see cref="RequiredParts"/>' keys.</param>
/// <param name="Citation">Its name as officially cited; for a protocol, authorisation or contract its title and parties or issuing body.</param>
/// <param name="Article">The article (and paragraph) the transfer rests on.</param>
/// <param name="Reference">Its number (a protocol's or authorisation's), or the version of a contract's terms.</param>
/// <param name="Date">The day it was adopted, signed or granted.</param>
/// <param name="Url">Where it is published.</param>
public sealed record LegalInstrument(string Kind, string Citation, string? Article = null, string? Reference = null, DateOnly? Date = null, Uri? Url = null)
{
    /// <summary>Per kind, the parts besides the citation it must have. A contract's date differs per subject (a course
    /// enrolment); consent is the subject's own, checked through the agreement's <c>consentPurpose</c>.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> RequiredParts = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        ["law"] = ["article"],
        ["decree"] = ["article", "date"],
        ["regulation"] = ["article", "date"],
        ["protocol"] = ["reference", "date"],
        ["authorisation"] = ["reference", "date"],
        ["contract"] = [],
        ["consent"] = [],
    };

    /// <summary>The required parts this instrument lacks; empty when it is complete.</summary>
    public IReadOnlyList<string> Missing => RequiredParts.TryGetValue(Kind, out var parts) ? parts.Where(Lacks).ToList() : ["kind"];

    /// <summary>Every part its kind needs is there (asked for every decision: no allocation).</summary>
    public bool IsComplete
    {
        get
        {
            if (!RequiredParts.TryGetValue(Kind, out var parts))
            {
                return false;
            }

            foreach (var part in parts)
            {
                if (Lacks(part))
                {
                    return false;
                }
            }

            return true;
        }
    }

    bool Lacks(string part) => part switch { "article" => Article is null, "reference" => Reference is null, "date" => Date is null, _ => false };

    /// <summary>One line, as the record of processing and the ledger cite it: "Leerplichtwet 1969, art. 21a (https://...)".</summary>
    public override string ToString() =>
        string.Join(", ", new[] { Citation, Article, Reference is null ? null : "no. " + Reference, Date?.ToString("d MMMM yyyy", System.Globalization.CultureInfo.InvariantCulture) }.Where(p => p is not null))
        + (Url is null ? "" : $" ({Url})");
}

/// <summary>How long the recipient keeps the data: an ISO-8601 duration counted from a trigger.</summary>
/// <param name="Duration">e.g. <c>P5Y</c>.</param>
/// <param name="Trigger">What the duration counts from: one of <see cref="Triggers"/>.</param>
public sealed record Retention(string Duration, string Trigger)
{
    public static readonly IReadOnlyList<string> Triggers = ["transfer", "end-of-enrolment", "last-service", "end-of-status", "end-of-trajectory"];
}

/// <summary>Where the recipient processes the data: the EEA, or a country with the safeguard that covers it.</summary>
/// <param name="Region"><c>EEA</c>, an EEA country code, or another ISO 3166 country code.</param>
/// <param name="Safeguard">The adequacy decision or art. 46 safeguard, required outside the EEA.</param>
public sealed record TransferRegion(string Region, string? Safeguard)
{
    static readonly HashSet<string> EeaCountries =
    [
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT",
        "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
    ];

    public static readonly TransferRegion Eea = new("EEA", null);

    public bool InsideEea => Region == "EEA" || EeaCountries.Contains(Region);

    /// <summary>Inside the EEA, or outside it with a named safeguard.</summary>
    public bool Lawful => InsideEea || !string.IsNullOrWhiteSpace(Safeguard);
}
