using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>A problem found in an agreement file, pointing at the file and line a reader must look at.</summary>
public sealed record AgreementError(string File, int Line, string Rule, string Message)
{
    public override string ToString() => $"{File}:{Line}: [{Rule}] {Message}";
}

/// <summary>
/// Reads agreement files (<c>*.yaml</c>, one agreement each). Strict: an unknown key, a missing required key
/// or a malformed value is an error with file and line, never a silently ignored setting.
/// </summary>
public static class AgreementLoader
{
    static readonly string[] KnownKeys =
    [
        "id", "version", "recipient", "title", "jurisdiction", "eventTypes", "when", "senders", "purposes",
        "legalBasis", "consentPurpose", "identifiers", "objectionStops", "fields", "validFrom", "validUntil",
        "reviewBy", "retention", "transfer",
    ];

    static readonly IReadOnlyList<string> IdentifierKinds = EventCatalogue.NationalIdentifierKinds;

    static readonly System.Text.RegularExpressions.Regex IsoDuration = new(
        @"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    static readonly System.Text.RegularExpressions.Regex Art9Ground = new(@"^9\(2\)\([a-j]\)$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    static readonly string[] Jurisdictions = ["NL", "BE-VLG"];

    public sealed record Result(IReadOnlyList<Agreement> Agreements, IReadOnlyList<AgreementError> Errors);

    public static Result LoadDirectory(string directory)
    {
        var full = Path.GetFullPath(directory);
        if (!Directory.Exists(full))
        {
            return new([], [new AgreementError(full, 0, "agreements-directory", "the agreements directory does not exist")]);
        }

        var agreements = new List<Agreement>();
        var errors = new List<AgreementError>();
        var files = Directory.EnumerateFiles(full, "*.yaml").Concat(Directory.EnumerateFiles(full, "*.yml"))
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var (agreement, fileErrors) = LoadFile(file);
            errors.AddRange(fileErrors);
            if (agreement is not null)
            {
                agreements.Add(agreement);
            }
        }

        foreach (var duplicate in agreements.GroupBy(a => a.Id, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            foreach (var agreement in duplicate.Skip(1))
            {
                errors.Add(new(agreement.SourceFile, agreement.LineOf("id"), "duplicate-id", $"agreement id '{agreement.Id}' is also used in {duplicate.First().SourceFile}"));
            }
        }

        if (agreements.Count == 0 && errors.Count == 0)
        {
            errors.Add(new(full, 0, "agreements-directory", "no agreement files (*.yaml) found: nothing could ever be transferred"));
        }

        return new(agreements, errors);
    }

    public static (Agreement? Agreement, IReadOnlyList<AgreementError> Errors) LoadFile(string file)
    {
        var reader = new YamlMappingReader(file);
        if (YamlMappingReader.LoadMapping(file, "an agreement", out var error) is not { } root)
        {
            return (null, [error!]);
        }

        reader.ReadKeys(root, KnownKeys);

        var id = reader.RequiredString(root, "id");
        var versionText = reader.RequiredString(root, "version");
        var version = 0;
        if (versionText is not null && (!int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out version) || version < 1))
        {
            reader.Error(reader.NodeOf(root, "version")!, "version", "version is a whole number from 1");
        }

        var recipient = reader.RequiredString(root, "recipient");
        var title = reader.RequiredString(root, "title");
        var jurisdiction = reader.RequiredString(root, "jurisdiction");
        if (jurisdiction is not null && !Jurisdictions.Contains(jurisdiction, StringComparer.Ordinal))
        {
            reader.Error(reader.NodeOf(root, "jurisdiction")!, "jurisdiction", $"jurisdiction is one of {string.Join(", ", Jurisdictions)}");
        }

        var eventTypes = reader.StringList(root, "eventTypes", required: true);
        var when = ReadConditions(reader, root);
        var senders = reader.StringList(root, "senders", required: false);
        var purposes = reader.StringList(root, "purposes", required: true);
        var legalBasis = ReadLegalBasis(reader, root);
        var consentPurpose = reader.OptionalString(root, "consentPurpose");
        var identifiers = ReadIdentifiers(reader, root);
        var objectionStops = reader.OptionalBool(root, "objectionStops");
        var retention = ReadRetention(reader, root);
        var transfer = ReadTransfer(reader, root);
        var (fieldPaths, whole, freeText) = ReadFields(reader, root);
        FieldSelection? fields = null;
        try
        {
            fields = FieldSelection.Parse(fieldPaths);
        }
        catch (FormatException ex)
        {
            reader.Error(reader.NodeOf(root, "fields")!, "field-path", ex.Message);
        }

        var validFrom = reader.OptionalDate(root, "validFrom");
        var validUntil = reader.OptionalDate(root, "validUntil");
        if (validFrom > validUntil)
        {
            reader.Error(reader.NodeOf(root, "validFrom")!, "validity-window", $"validFrom {validFrom:yyyy-MM-dd} is after validUntil {validUntil:yyyy-MM-dd}");
        }

        // The day by which the DPO reviews the agreement again: required, for an agreement nobody looks at again drifts from the law.
        var reviewBy = reader.OptionalDate(root, "reviewBy");
        if (reviewBy is null && !reader.Errors.Any(e => e.Rule == "date" && e.Message.StartsWith("'reviewBy'", StringComparison.Ordinal)))
        {
            reader.Error(root, "required", "'reviewBy' is required: the day by which the data-protection officer reviews the agreement again (yyyy-MM-dd)");
        }

        string? canonical = null;
        try
        {
            canonical = AgreementContent.Canonical(root);
        }
        catch (FormatException ex)
        {
            reader.Error(root, "yaml", $"the agreement cannot be named by a hash: {ex.Message}");
        }

        if (reader.Errors.Count > 0 || canonical is null)
        {
            return (null, reader.Errors);
        }

        return (new Agreement
        {
            Canonical = canonical,
            Hash = AgreementContent.Hash(canonical),
            Id = id!,
            Version = version,
            Recipient = recipient!,
            Title = title!,
            Jurisdiction = jurisdiction!,
            EventTypes = eventTypes,
            When = when,
            Senders = senders,
            Purposes = purposes,
            LegalBasis = legalBasis!,
            ConsentPurpose = consentPurpose,
            Identifiers = identifiers,
            ObjectionStops = objectionStops,
            Fields = fields!,
            WholeObjects = whole,
            FreeText = freeText,
            ValidFrom = validFrom,
            ValidUntil = validUntil,
            ReviewBy = reviewBy ?? DateOnly.MinValue,
            Retention = retention!,
            Transfer = transfer!,
            SourceFile = file,
            Lines = reader.Lines,
        }, []);
    }

    static LegalBasis? ReadLegalBasis(YamlMappingReader reader, YamlMappingNode root)
    {
        if (reader.RequiredMapping(root, "legalBasis", "required", ["gdpr", "instrument", "art9Ground", "overridesErasure"],
                "legalBasis is required: a mapping with 'gdpr' and 'instrument' (no transfer without a stated ground)") is not { } mapping)
        {
            return null;
        }

        var gdpr = reader.RequiredString(mapping, "gdpr");
        if (gdpr is not null && !LegalBasis.Grounds.ContainsKey(gdpr))
        {
            reader.Error(reader.NodeOf(mapping, "gdpr")!, "legal-basis", $"gdpr is one of {string.Join(", ", LegalBasis.Grounds.Keys)}");
        }

        var instrument = ReadInstrument(reader, mapping);
        var art9 = reader.OptionalString(mapping, "art9Ground");
        if (art9 is not null && !Art9Ground.IsMatch(art9))
        {
            reader.Error(reader.NodeOf(mapping, "art9Ground")!, "special-category", "art9Ground is a GDPR art. 9(2) letter, written 9(2)(a) to 9(2)(j)");
        }

        var overridesErasure = reader.OptionalBool(mapping, "overridesErasure");
        return gdpr is null || instrument is null ? null : new LegalBasis(gdpr, instrument, art9, overridesErasure);
    }

    /// <summary>
    /// The allow-list: each entry a path, or a mapping with the path, what the agreement accepts about it and why:
    /// <c>{ path, whole: true, reason }</c> for an object admitted whole (every member its contract declares, now and
    /// after the contract grows); <c>{ path, freeText: true, reason }</c> for free text.
    /// </summary>
    static (IReadOnlyList<string> Paths, IReadOnlyDictionary<string, string> Whole, IReadOnlyDictionary<string, string> FreeText) ReadFields(YamlMappingReader reader, YamlMappingNode root)
    {
        var paths = new List<string>();
        var whole = new Dictionary<string, string>(StringComparer.Ordinal);
        var freeText = new Dictionary<string, string>(StringComparer.Ordinal);
        if (reader.NodeOf(root, "fields") is not YamlSequenceNode sequence)
        {
            return (reader.StringList(root, "fields", required: true), whole, freeText);
        }

        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var item = sequence.Children[i];
            reader.Lines[$"fields[{i}]"] = YamlMappingReader.LineOf(item.Start);
            switch (item)
            {
                case YamlScalarNode { Value: { Length: > 0 } path }:
                    paths.Add(path);
                    break;
                case YamlMappingNode entry:
                    reader.RejectUnknownKeys(entry, "fields", ["path", "whole", "freeText", "reason"]);
                    var entryPath = reader.RequiredString(entry, "path");
                    var reason = reader.OptionalString(entry, "reason");
                    var isWhole = reader.OptionalBool(entry, "whole");
                    var isFreeText = reader.OptionalBool(entry, "freeText");
                    if (!(isWhole || isFreeText) || string.IsNullOrWhiteSpace(reason))
                    {
                        reader.Error(entry, isFreeText ? "free-text" : "whole-object",
                            "a mapping in 'fields' says what the agreement accepts and why: { path: PATH, whole: true, reason: WHY } for an object, { path: PATH, freeText: true, reason: WHY } for free text; any other field is listed by its path alone");
                    }
                    else if (entryPath is not null)
                    {
                        paths.Add(entryPath);
                        if (isWhole)
                        {
                            whole[entryPath] = reason;
                        }

                        if (isFreeText)
                        {
                            freeText[entryPath] = reason;
                        }
                    }

                    break;
                default:
                    reader.Error(item, "list", "every entry of 'fields' is a field path, or a mapping { path, whole or freeText: true, reason }");
                    break;
            }
        }

        if (paths.Count == 0 && reader.Errors.Count == 0)
        {
            reader.Error(sequence, "required", "'fields' lists at least one entry");
        }

        reader.RejectDuplicates(sequence, "fields", paths);
        return (paths, whole, freeText);
    }

    /// <summary>The structured instrument: <c>kind</c> and <c>citation</c> always; which other parts a kind needs, the lint says.</summary>
    static LegalInstrument? ReadInstrument(YamlMappingReader reader, YamlMappingNode legalBasis)
    {
        const string form = "legalBasis.instrument is a mapping: kind (law, decree, regulation, protocol, authorisation, contract, consent), citation, and as the kind needs article, reference, date, url";
        if (reader.RequiredMapping(legalBasis, "instrument", "instrument", ["kind", "citation", "article", "reference", "date", "url"], form) is not { } mapping)
        {
            return null;
        }

        var kind = reader.RequiredString(mapping, "kind");
        if (kind is not null && !LegalInstrument.RequiredParts.ContainsKey(kind))
        {
            reader.Error(reader.NodeOf(mapping, "kind")!, "instrument", $"instrument.kind is one of {string.Join(", ", LegalInstrument.RequiredParts.Keys)}, not '{kind}'");
            kind = null;
        }

        var citation = reader.RequiredString(mapping, "citation");
        var url = reader.OptionalString(mapping, "url");
        Uri? uri = null;
        if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out uri) && uri.Scheme is "https" or "http"))
        {
            reader.Error(reader.NodeOf(mapping, "url")!, "instrument", $"instrument.url is where the instrument is published, an http(s) address, not '{url}'");
        }

        return kind is null || citation is null ? null : new LegalInstrument(
            kind, citation, reader.OptionalString(mapping, "article"), reader.OptionalString(mapping, "reference"), reader.OptionalDate(mapping, "date"), uri);
    }

    static List<RouteCondition> ReadConditions(YamlMappingReader reader, YamlMappingNode root)
    {
        var conditions = new List<RouteCondition>();
        switch (reader.NodeOf(root, "when"))
        {
            case null:
                return conditions;
            case YamlSequenceNode sequence:
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    reader.Lines[$"when[{i}]"] = YamlMappingReader.LineOf(sequence.Children[i].Start);
                    if (sequence.Children[i] is not YamlMappingNode condition)
                    {
                        reader.Error(sequence.Children[i], "when", "each condition is a mapping with 'path' and either 'equals' or 'present: true'");
                        continue;
                    }

                    reader.RejectUnknownKeys(condition, "when", ["path", "equals", "present", "youngerThan"]);
                    var path = reader.RequiredString(condition, "path");
                    var equals = reader.OptionalString(condition, "equals");
                    var present = reader.OptionalBool(condition, "present");
                    var youngerThan = reader.OptionalString(condition, "youngerThan");
                    int? years = youngerThan is null ? null
                        : int.TryParse(youngerThan, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var y) && y is > 0 and <= 150 ? y : -1;
                    if ((equals is null ? 0 : 1) + (present ? 1 : 0) + (years is null ? 0 : 1) != 1)
                    {
                        reader.Error(condition, "when", "a condition has one of 'equals: VALUE', 'present: true' or 'youngerThan: YEARS'");
                    }
                    else if (years == -1)
                    {
                        reader.Error(condition, "when", $"'youngerThan' is a whole number of years from 1 to 150, not '{youngerThan}'");
                    }
                    else if (path is not null)
                    {
                        conditions.Add(new RouteCondition(path, equals, years));
                    }
                }

                return conditions;
            case var other:
                reader.Error(other, "when", "'when' is a list of conditions");
                return conditions;
        }
    }

    static Dictionary<string, string> ReadIdentifiers(YamlMappingReader reader, YamlMappingNode root)
    {
        var identifiers = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (reader.NodeOf(root, "identifiers"))
        {
            case null:
            case YamlScalarNode { Value: null or "" or "~" or "null" }:
                return identifiers;
            case YamlMappingNode mapping:
                foreach (var (key, value) in mapping.Children)
                {
                    var kind = (key as YamlScalarNode)?.Value ?? "";
                    if (!IdentifierKinds.Contains(kind, StringComparer.Ordinal))
                    {
                        reader.Error(key, "national-identifier", $"identifiers lists {string.Join(", ", IdentifierKinds)}, not '{kind}'");
                    }
                    else if (value is YamlScalarNode { Value: { Length: > 0 } instrument })
                    {
                        identifiers[kind] = instrument;
                    }
                    else
                    {
                        reader.Error(value, "national-identifier", $"identifiers.{kind} names the legal instrument that permits it");
                    }
                }

                return identifiers;
            case var other:
                reader.Error(other, "national-identifier", $"identifiers maps an identifier ({string.Join(", ", IdentifierKinds)}) to the instrument permitting it");
                return identifiers;
        }
    }

    static Retention? ReadRetention(YamlMappingReader reader, YamlMappingNode root)
    {
        if (reader.RequiredMapping(root, "retention", "retention", ["duration", "trigger"],
                "retention is required: a mapping with 'duration' (ISO 8601, e.g. P5Y) and 'trigger'") is not { } mapping)
        {
            return null;
        }

        var duration = reader.RequiredString(mapping, "duration");
        if (duration is not null && !IsoDuration.IsMatch(duration))
        {
            reader.Error(reader.NodeOf(mapping, "duration")!, "retention", $"retention.duration is an ISO 8601 duration such as P2Y or P6M, not '{duration}'");
        }

        var trigger = reader.RequiredString(mapping, "trigger");
        if (trigger is not null && !Retention.Triggers.Contains(trigger, StringComparer.Ordinal))
        {
            reader.Error(reader.NodeOf(mapping, "trigger")!, "retention", $"retention.trigger is one of {string.Join(", ", Retention.Triggers)}");
        }

        return duration is null || trigger is null ? null : new Retention(duration, trigger);
    }

    static TransferRegion? ReadTransfer(YamlMappingReader reader, YamlMappingNode root)
    {
        if (reader.RequiredMapping(root, "transfer", "transfer", ["region", "safeguard"],
                "transfer is required: a mapping with 'region' (EEA or a country code) and, outside the EEA, 'safeguard'") is not { } mapping)
        {
            return null;
        }

        var region = reader.RequiredString(mapping, "region");
        if (region is not null && region != "EEA" && !(region.Length == 2 && region.All(char.IsAsciiLetterUpper)))
        {
            reader.Error(reader.NodeOf(mapping, "region")!, "transfer", $"transfer.region is EEA or an ISO 3166 country code such as NL or BE, not '{region}'");
            return null;
        }

        return region is null ? null : new TransferRegion(region, reader.OptionalString(mapping, "safeguard"));
    }
}
