using System.Text.Json;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// Identifies the subject of an event the same way wherever the gateway keeps state about them: by national
/// identifier when the event carries one, otherwise by sender and local id.
/// </summary>
public static class SubjectKey
{
    /// <summary>The keys under which the event's subject may be known, most specific first.</summary>
    public static IEnumerable<string> Of(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("subject", out var subject) || subject.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }

        if (subject.StringProperty("bsn") is { } bsn)
        {
            yield return "bsn:" + bsn;
        }

        if (subject.StringProperty("onderwijsnummer") is { } onderwijsnummer)
        {
            yield return "onderwijsnummer:" + onderwijsnummer;
        }

        if (subject.StringProperty("rijksregisternummer") is { } rrn)
        {
            yield return "rijksregisternummer:" + Digits(rrn);
        }

        if (subject.StringProperty("bisnummer") is { } bis)
        {
            yield return "bisnummer:" + Digits(bis);
        }

        if (subject.StringProperty("localId") is { } localId && body.TryGetProperty("source", out var source) && source.StringProperty("institutionId") is { } institution)
        {
            yield return $"local:{institution}:{localId}";
        }
    }

    /// <summary>The key for an identifier written in a subject-state entry.</summary>
    public static string? For(string? bsn, string? rijksregisternummer, string? institutionId, string? localId) =>
        bsn is not null ? "bsn:" + bsn
        : rijksregisternummer is not null ? "rijksregisternummer:" + Digits(rijksregisternummer)
        : institutionId is not null && localId is not null ? $"local:{institutionId}:{localId}"
        : null;

    /// <summary>
    /// The key of an identifier as a person gives it: a BSN or an onderwijsnummer (told apart by their checks), a
    /// rijksregisternummer or a BIS number (told apart by the month), with or without separators; null when it is none.
    /// </summary>
    public static string? ForIdentifier(string identifier)
    {
        var trimmed = identifier.Trim();
        var digits = Digits(identifier);
        return digits.Length switch
        {
            9 when trimmed.All(char.IsAsciiDigit) && SubjectIdentifiers.IsValidOnderwijsnummer(trimmed) => "onderwijsnummer:" + trimmed,
            9 when trimmed.All(char.IsAsciiDigit) => For(digits, null, null, null),
            11 when identifier.Length <= 20 && SubjectIdentifiers.IsValidBisNumber(identifier) => "bisnummer:" + digits,
            11 when identifier.Length <= 20 => For(null, digits, null, null),
            _ => null,
        };
    }

    static string Digits(string value) => string.Concat(value.Where(char.IsAsciiDigit));
}

/// <summary>
/// The subject-state file of <c>policy evaluate --subject-state</c>:
/// <code>
/// { "subjects": [ { "bsn": "123456782", "consents": { "school-photos": "given" }, "objection": true, "erased": false } ] }
/// </code>
/// A subject is named by <c>bsn</c>, <c>rijksregisternummer</c>, or <c>institutionId</c> with <c>localId</c>.
/// </summary>
public static class SubjectStateFile
{
    public static IReadOnlyDictionary<string, SubjectState> Load(string path)
    {
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream);
        var states = new Dictionary<string, SubjectState>(StringComparer.Ordinal);
        if (!document.RootElement.TryGetProperty("subjects", out var subjects) || subjects.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{path}: expected an object with a 'subjects' array");
        }

        var index = 0;
        foreach (var entry in subjects.EnumerateArray())
        {
            var key = SubjectKey.For(entry.StringProperty("bsn"), entry.StringProperty("rijksregisternummer"), entry.StringProperty("institutionId"), entry.StringProperty("localId"))
                ?? throw new FormatException($"{path}: subjects[{index}] names no subject (bsn, rijksregisternummer, or institutionId with localId)");
            var consents = new Dictionary<string, ConsentStatus>(StringComparer.Ordinal);
            if (entry.TryGetProperty("consents", out var given) && given.ValueKind == JsonValueKind.Object)
            {
                foreach (var consent in given.EnumerateObject())
                {
                    consents[consent.Name] = consent.Value.GetString() switch
                    {
                        "given" => ConsentStatus.Given,
                        "withdrawn" => ConsentStatus.Withdrawn,
                        _ => throw new FormatException($"{path}: subjects[{index}].consents.{consent.Name} is 'given' or 'withdrawn'"),
                    };
                }
            }

            if (states.ContainsKey(key))
            {
                throw new FormatException($"{path}: subjects[{index}] names a subject that an earlier entry names too");
            }

            states[key] = new SubjectState
            {
                Consents = consents,
                Objected = entry.TryGetProperty("objection", out var objection) && objection.ValueKind == JsonValueKind.True,
                Erased = entry.TryGetProperty("erased", out var erased) && erased.ValueKind == JsonValueKind.True,
            };
            index++;
        }

        return states;
    }

    /// <summary>
    /// The state of the event's subject, merged over every key it is known by, in the direction that stops
    /// transfers: an objection or erasure under any key counts, and a withdrawal beats a consent.
    /// </summary>
    public static SubjectState For(IReadOnlyDictionary<string, SubjectState> states, JsonElement body)
    {
        var known = SubjectKey.Of(body).Select(states.GetValueOrDefault).OfType<SubjectState>().ToList();
        if (known.Count == 0)
        {
            return SubjectState.Unknown;
        }

        var consents = new Dictionary<string, ConsentStatus>(StringComparer.Ordinal);
        foreach (var (purpose, status) in known.SelectMany(s => s.Consents))
        {
            consents[purpose] = consents.TryGetValue(purpose, out var earlier) && earlier == ConsentStatus.Withdrawn ? earlier : status;
        }

        return new SubjectState { Consents = consents, Objected = known.Any(s => s.Objected), Erased = known.Any(s => s.Erased) };
    }
}
