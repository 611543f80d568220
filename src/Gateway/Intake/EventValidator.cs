using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>
/// One reason an event is refused: where (a field path, <c>$</c> for the message as a whole) and which rule. Never
/// the value: it ends up in logs, headers and command output.
/// </summary>
public sealed record Violation(string Path, string Rule)
{
    public override string ToString() => $"{Path}: {Rule}";
}

/// <summary>
/// The intake's verdict on an event as published: size, JSON well-formedness, the contract's shape (required
/// fields, types), formats (dates, timestamps, UUIDs, e-mail, postal code per country), identifier checksums (BSN
/// eleven-test, rijksregisternummer modulo 97, BRIN, Flemish institution number) and plausibility (no birth in the
/// future, no period ending before it starts). Members the contract does not declare are accepted, at any depth:
/// the projection (<see cref="FieldSelection"/>) admits only the contract's own leaves, so they never leave, even
/// inside an object an agreement allows whole, and the ledger lists them as withheld. The schemas say the same
/// (<c>additionalProperties: true</c>).
/// </summary>
public sealed partial class EventValidator(TimeProvider time, int maxBytes = EventValidator.DefaultMaxBytes)
{
    public const int DefaultMaxBytes = 64 * 1024;

    static readonly ConcurrentDictionary<Type, PropertyShape[]> Shapes = new();

    /// <summary>The verdict on one event's bytes published as <paramref name="eventType"/>.</summary>
    public IReadOnlyList<Violation> Validate(string eventType, ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > maxBytes)
        {
            return [new("$", "size")];
        }

        if (!EventCatalogue.Default.Types.ContainsKey(eventType))
        {
            return [new("$", "unknown-type")];
        }

        using var document = Parse(utf8, out var violation);
        return document is null ? [violation!] : Validate(eventType, document.RootElement);
    }

    /// <summary>
    /// The message as one JSON value: within the size limit, valid UTF-8, well-formed, no deeper than the limit,
    /// nothing after it. Null with the violation otherwise. The caller disposes the document.
    /// </summary>
    public JsonDocument? Parse(ReadOnlySpan<byte> utf8, out Violation? violation)
    {
        violation = utf8.Length > maxBytes ? new("$", "size")
            // The reader checks UTF-8 only where it must; a string with broken bytes would fail later, on reading.
            : !System.Text.Unicode.Utf8.IsValid(utf8) ? new("$", "json")
            : null;
        if (violation is not null)
        {
            return null;
        }

        var options = new JsonReaderOptions { MaxDepth = EventJson.DocumentOptions.MaxDepth };
        try
        {
            // One pass over the tokens first: well-formed, one value, not too deep, and every escaped string readable.
            // JSON allows an escaped lone surrogate ("\uD800"); reading it as text throws, later and anywhere.
            var scan = new Utf8JsonReader(utf8, options);
            while (scan.Read())
            {
                if (scan.ValueIsEscaped && scan.TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
                {
                    _ = scan.GetString();
                }
            }

            var reader = new Utf8JsonReader(utf8, options);
            var document = JsonDocument.ParseValue(ref reader);
            // ParseValue stops after the first value; anything after it is not one event.
            if (reader.BytesConsumed < utf8.Length && utf8[(int)reader.BytesConsumed..].IndexOfAnyExcept(" \t\r\n"u8) >= 0)
            {
                document.Dispose();
                violation = new("$", "json");
                return null;
            }

            return document;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            violation = new("$", "json"); // the reader's message can quote the text
            return null;
        }
    }

    /// <summary>The verdict on an event already parsed: its type, the contract's shape, formats, checksums, plausibility.</summary>
    public IReadOnlyList<Violation> Validate(string eventType, JsonElement root) =>
        EventCatalogue.Default.Types.TryGetValue(eventType, out var contract) ? Validate(eventType, contract, root) : [new("$", "unknown-type")];

    IReadOnlyList<Violation> Validate(string eventType, Type contract, JsonElement root)
    {
        var violations = new List<Violation>();
        if (root.ValueKind != JsonValueKind.Object)
        {
            return [new("$", "type")];
        }

        if (HasDuplicateProperties(root))
        {
            return [new("$", "json")];
        }

        CheckShape(root, contract, "", violations);
        CheckContent(root, violations);
        return violations;
    }

    // ---- shape: the contract's properties, required-ness and JSON kinds ----

    sealed record PropertyShape(string Name, Type Type, bool Required, bool IsList, bool IsContract);

    static PropertyShape[] ShapeOf(Type type) => Shapes.GetOrAdd(type, t => t
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.Name != "EqualityContract" && p.GetIndexParameters().Length == 0)
        .Select(p =>
        {
            var propertyType = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            var isList = propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(IReadOnlyList<>);
            var element = isList ? propertyType.GetGenericArguments()[0] : propertyType;
            return new PropertyShape(
                char.ToLowerInvariant(p.Name[0]) + p.Name[1..],
                element,
                p.GetCustomAttribute<RequiredMemberAttribute>() is not null,
                isList,
                element.Namespace == typeof(Contracts.AbsenceReported).Namespace && element.IsClass);
        })
        .ToArray());

    static void CheckShape(JsonElement obj, Type type, string prefix, List<Violation> violations)
    {
        foreach (var property in ShapeOf(type))
        {
            var path = prefix.Length == 0 ? property.Name : $"{prefix}.{property.Name}";
            if (!obj.TryGetProperty(property.Name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                if (property.Required)
                {
                    violations.Add(new(path, "required"));
                }

                continue;
            }

            if (!property.IsList)
            {
                CheckValue(value, property, path, violations);
                continue;
            }

            if (value.ValueKind != JsonValueKind.Array)
            {
                violations.Add(new(path, "type"));
                continue;
            }

            foreach (var element in value.EnumerateArray())
            {
                CheckValue(element, property, path + "[]", violations);
            }
        }
    }

    static void CheckValue(JsonElement value, PropertyShape property, string path, List<Violation> violations)
    {
        if (property.IsContract)
        {
            if (value.ValueKind != JsonValueKind.Object)
            {
                violations.Add(new(path, "type"));
            }
            else
            {
                CheckShape(value, property.Type, path, violations);
            }

            return;
        }

        var t = property.Type;
        var rule = t switch
        {
            _ when t == typeof(string) => value.ValueKind == JsonValueKind.String ? null : "type",
            _ when t == typeof(bool) => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "type",
            _ when t == typeof(int) => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out _) ? null : "type",
            _ when t == typeof(decimal) => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out _) ? null : "type",
            _ when t == typeof(Guid) => value.ValueKind != JsonValueKind.String ? "type" : Guid.TryParseExact(value.GetString(), "D", out _) ? null : "format-uuid",
            _ when t == typeof(DateOnly) => value.ValueKind != JsonValueKind.String ? "type" : ParseDate(value) is null ? "format-date" : null,
            _ when t == typeof(DateTimeOffset) => value.ValueKind != JsonValueKind.String ? "type" : ParseTimestamp(value) is null ? "format-timestamp" : null,
            _ => null,
        };
        if (rule is not null)
        {
            violations.Add(new(path, rule));
        }
    }

    // ---- MassTransit's number format ----

    /// <summary>
    /// MassTransit's serializer writes a <c>decimal</c> as a JSON string (<c>"3.5"</c>); the contracts' wire shape,
    /// which raw publishers follow and recipients receive, has a number. Returns the event with such strings at the
    /// contract's decimal properties written as numbers, or null when there is nothing to change (or the message is
    /// not an object of a known type: the validation says what is wrong with it).
    /// </summary>
    public static byte[]? WithDecimalStringsAsNumbers(string eventType, JsonElement message)
    {
        if (!EventCatalogue.Default.Types.TryGetValue(eventType, out var contract) || message.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        try
        {
            var node = System.Text.Json.Nodes.JsonObject.Create(message)!;
            return RewriteDecimals(node, contract) ? JsonSerializer.SerializeToUtf8Bytes(node, EventJsonContext.Default.JsonObject) : null;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or JsonException)
        {
            return null; // e.g. a duplicate property: the validation reports it
        }
    }

    static bool RewriteDecimals(System.Text.Json.Nodes.JsonObject obj, Type type)
    {
        var changed = false;
        foreach (var property in ShapeOf(type))
        {
            if (!obj.TryGetPropertyValue(property.Name, out var value) || value is null)
            {
                continue;
            }

            IEnumerable<System.Text.Json.Nodes.JsonNode?> values = property.IsList && value is System.Text.Json.Nodes.JsonArray array
                ? array
                : new[] { value };
            if (property.IsContract)
            {
                foreach (var item in values.OfType<System.Text.Json.Nodes.JsonObject>())
                {
                    changed |= RewriteDecimals(item, property.Type);
                }
            }
            else if (property.Type == typeof(decimal))
            {
                foreach (var item in values.OfType<System.Text.Json.Nodes.JsonValue>().ToList())
                {
                    if (item.TryGetValue<string>(out var text)
                        && decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
                    {
                        item.ReplaceWith(number);
                        changed = true;
                    }
                }
            }
        }

        return changed;
    }

    // ---- content: formats, checksums, plausibility (the shape is known to be right here) ----

    /// <summary>Runs next to the shape checks, so it reads defensively: what is missing or mistyped was reported there.</summary>
    void CheckContent(JsonElement root, List<Violation> violations)
    {
        var jurisdiction = root.StringProperty("jurisdiction");
        if (jurisdiction is not null and not ("NL" or "BE-VLG"))
        {
            violations.Add(new("jurisdiction", "jurisdiction"));
        }

        var institution = root.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object ? source.StringProperty("institutionId") : null;
        if (institution is not null && jurisdiction is "NL" or "BE-VLG" && InstitutionIdentifiers.SchemeOf(jurisdiction, institution) is null)
        {
            // NL: a BRIN, a KvK number or an OIN; BE-VLG: an instellingsnummer or a KBO number (mod 97).
            violations.Add(new("source.institutionId", "institution-id"));
        }

        if (!root.TryGetProperty("subject", out var subject) || subject.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        // Each identifier in its own field, with its own check: a BIS number is refused as a rijksregisternummer, and
        // an onderwijsnummer as a BSN (and the reverse).
        CheckIdentifier(subject, "bsn", SubjectIdentifiers.IsValidBsn, violations);
        CheckIdentifier(subject, "onderwijsnummer", SubjectIdentifiers.IsValidOnderwijsnummer, violations);
        CheckIdentifier(subject, "rijksregisternummer", SubjectIdentifiers.IsValidRijksregisternummer, violations);
        CheckIdentifier(subject, "bisnummer", SubjectIdentifiers.IsValidBisNumber, violations);
        if (subject.StringProperty("bsn") is not null && subject.StringProperty("onderwijsnummer") is not null)
        {
            // DUO gives an onderwijsnummer only to a pupil without a BSN: both is a mistake, and would make two subjects of one.
            violations.Add(new("subject.onderwijsnummer", "onderwijsnummer-with-bsn"));
        }

        CheckEmail(subject, "subject.email", violations);
        if (root.TryGetProperty("guardians", out var guardians) && guardians.ValueKind == JsonValueKind.Array)
        {
            foreach (var guardian in guardians.EnumerateArray())
            {
                CheckEmail(guardian, "guardians[].email", violations);
            }
        }

        if (subject.TryGetProperty("address", out var address) && address.ValueKind == JsonValueKind.Object && address.StringProperty("postalCode") is { } postalCode)
        {
            var country = address.StringProperty("country") ?? (jurisdiction == "NL" ? "NL" : "BE");
            var valid = country switch
            {
                "NL" => DutchPostalCodePattern().IsMatch(postalCode),
                "BE" => BelgianPostalCodePattern().IsMatch(postalCode),
                _ => true, // no rule for other countries
            };
            if (!valid)
            {
                violations.Add(new("subject.address.postalCode", "format-postal-code"));
            }
        }

        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (DateAt(subject, "birthDate") is { } birth && birth > today)
        {
            violations.Add(new("subject.birthDate", "plausibility"));
        }

        if (root.TryGetProperty("occurredAt", out var occurredAt) && ParseTimestamp(occurredAt) is { } occurred && occurred > time.GetUtcNow().AddDays(1))
        {
            violations.Add(new("occurredAt", "plausibility"));
        }

        // Periods must not end before they start.
        CheckPeriod(root, "absence", "from", "to", violations);
        CheckPeriod(root, "attendance", "periodFrom", "periodTo", violations);
        CheckPeriod(root, "participation", "from", "to", violations);
        CheckPeriod(root, "protection", "validFrom", "validUntil", violations);
        if (root.TryGetProperty("intake", out var intake) && intake.ValueKind == JsonValueKind.Object)
        {
            CheckPeriod(intake, "residenceStatus", "from", "until", violations, "intake.");
        }
    }

    /// <summary>A subject identifier that is there must pass its own check; the rule is named after the field (<c>bsn-checksum</c>).</summary>
    static void CheckIdentifier(JsonElement subject, string field, Func<string, bool> valid, List<Violation> violations)
    {
        if (subject.StringProperty(field) is { } value && !valid(value))
        {
            violations.Add(new("subject." + field, field + "-checksum"));
        }
    }

    static void CheckEmail(JsonElement obj, string path, List<Violation> violations)
    {
        if (obj.ValueKind == JsonValueKind.Object && obj.StringProperty("email") is { } email && !EmailPattern().IsMatch(email))
        {
            violations.Add(new(path, "format-email"));
        }
    }

    static void CheckPeriod(JsonElement parent, string name, string from, string to, List<Violation> violations, string prefix = "")
    {
        if (parent.TryGetProperty(name, out var period) && period.ValueKind == JsonValueKind.Object
            && DateAt(period, from) is { } start && DateAt(period, to) is { } end && end < start)
        {
            violations.Add(new($"{prefix}{name}.{to}", "plausibility"));
        }
    }

    static bool HasDuplicateProperties(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in value.EnumerateObject())
                {
                    if (!names.Add(property.Name) || HasDuplicateProperties(property.Value))
                    {
                        return true;
                    }
                }

                return false;
            case JsonValueKind.Array:
                return value.EnumerateArray().Any(HasDuplicateProperties);
            default:
                return false;
        }
    }

    static DateOnly? DateAt(JsonElement obj, string name) => obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) ? ParseDate(value) : null;

    static DateOnly? ParseDate(JsonElement value) =>
        value.ValueKind == JsonValueKind.String && DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;

    /// <summary>An ISO 8601 moment with an explicit offset (Z or ±hh:mm): a time without a zone is ambiguous.</summary>
    static DateTimeOffset? ParseTimestamp(JsonElement value) =>
        value.ValueKind == JsonValueKind.String && value.GetString() is { } text && TimestampPattern().IsMatch(text)
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var moment) ? moment : null;

    [GeneratedRegex(@"^[1-9][0-9]{3} ?[A-Z]{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex DutchPostalCodePattern();

    [GeneratedRegex(@"^[1-9][0-9]{3}$", RegexOptions.CultureInvariant)]
    private static partial Regex BelgianPostalCodePattern();

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s.]+$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex TimestampPattern();
}
