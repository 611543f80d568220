using System.Collections.Frozen;
using System.Reflection;
using IntegrationGateway.Contracts;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>What the gateway knows about a field of an event contract.</summary>
/// <param name="Path">Dot path from the event's JSON root, <c>[]</c> after an array property.</param>
/// <param name="IsLeaf">A value rather than an object.</param>
/// <param name="Category">The data category a record of processing lists it under.</param>
/// <param name="NationalIdentifier"><c>bsn</c>, <c>onderwijsnummer</c>, <c>rijksregisternummer</c> or <c>bisnummer</c> when the field is one.</param>
/// <param name="SpecialCategory">The GDPR art. 9 category (<c>health</c>, <c>religion</c>) when every value of the field is one.</param>
/// <param name="FreeText">Words a person wrote, which may say anything, a special category too: it leaves only where an
/// agreement says so, and as possibly special.</param>
public sealed record FieldInfo(string Path, bool IsLeaf, string Category, string? NationalIdentifier, string? SpecialCategory, bool FreeText = false)
{
    /// <summary>The values of this field that are special-category data although the field is not (<c>absence.kind = sickness</c>).</summary>
    public IReadOnlyList<SpecialValue> SpecialValues { get; init; } = [];
}

/// <summary>A value of a field that is special-category data by what it says (GDPR art. 9).</summary>
/// <param name="Value">The value, as the contract writes it.</param>
/// <param name="Category"><c>health</c>, <c>religion</c>, ...</param>
/// <param name="Why">Where that is said: the seed or the law.</param>
public sealed record SpecialValue(string Value, string Category, string Why);

/// <summary>
/// The event contracts as the policy layer sees them: every field path of every event type, derived from the
/// records in <c>src/Contracts</c>, with national identifiers and special categories marked. Agreements are linted
/// against it, and the record of processing names data categories from it.
/// </summary>
public sealed class EventCatalogue
{
    public const string Bsn = "bsn";
    public const string Onderwijsnummer = "onderwijsnummer";
    public const string Rijksregisternummer = "rijksregisternummer";
    public const string Bisnummer = "bisnummer";

    /// <summary>The national identifiers, each its own permission in an agreement's <c>identifiers</c>.</summary>
    public static IReadOnlyList<string> NationalIdentifierKinds { get; } = [Bsn, Onderwijsnummer, Rijksregisternummer, Bisnummer];

    static readonly FrozenDictionary<string, string> NationalIdentifiers = NationalIdentifierKinds.ToFrozenDictionary(kind => "subject." + kind, kind => kind);

    /// <summary>Fields whose every value is special-category data (GDPR art. 9).</summary>
    static readonly FrozenDictionary<string, string> SpecialCategories = new Dictionary<string, string>
    {
        ["supportPlan.medicalNotes"] = "health",
        // Seed 003 (the school's privacy statement) counts support arrangements such as "extra tijd bij toetsen" among the
        // medical data it keeps: an arrangement is made because of a pupil's condition, so it reveals health.
        ["supportPlan.arrangements[]"] = "health",
    }.ToFrozenDictionary();

    /// <summary>Values that are special-category data where the field is not: a report that a pupil was ill is health data.</summary>
    static readonly FrozenDictionary<string, SpecialValue[]> SpecialValuesOf = new Dictionary<string, SpecialValue[]>
    {
        ["absence.kind"] = [new("sickness", "health", "GDPR art. 4(15): data concerning health; that a pupil was absent through illness says so")],
    }.ToFrozenDictionary();

    /// <summary>Free text: a person's own words, which may hold anything (a diagnosis, a faith, a name).</summary>
    static readonly FrozenSet<string> FreeTextFields = new[] { "absence.remark", "supportPlan.goals" }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Every event type school and agency systems publish, by contract name.</summary>
    public static EventCatalogue Default { get; } = new([
        typeof(AbsenceReported), typeof(StudentEnrolled), typeof(StudentDeregistered), typeof(AttendanceRegistered),
        typeof(ExamResultRecorded), typeof(DiplomaAwarded), typeof(SupportPlanUpdated), typeof(IntegrationIntakeCompleted),
        typeof(LanguageTestResultRecorded), typeof(CourseParticipationRecorded), typeof(TemporaryProtectionRegistered),
        typeof(PersonalDataRectified), typeof(ErasureRequested), typeof(ConsentChanged), typeof(ObjectionLodged),
    ]);

    readonly FrozenDictionary<string, FrozenDictionary<string, FieldInfo>> _fields;

    public EventCatalogue(IEnumerable<Type> contracts)
    {
        Types = contracts.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);
        _fields = Types.ToFrozenDictionary(
            kv => kv.Key,
            kv => Walk(kv.Value, "").ToFrozenDictionary(f => f.Path, StringComparer.Ordinal),
            StringComparer.Ordinal);
    }

    public FrozenDictionary<string, Type> Types { get; }

    public bool Knows(string eventType) => _fields.ContainsKey(eventType);

    public IEnumerable<FieldInfo> FieldsOf(string eventType) => _fields.TryGetValue(eventType, out var f) ? f.Values : [];

    public FieldInfo? Field(string eventType, string path) =>
        _fields.TryGetValue(eventType, out var fields) && fields.TryGetValue(path, out var field) ? field : null;

    /// <summary>The leaf fields a path takes in: itself when a leaf, everything below it when an object.</summary>
    public IEnumerable<FieldInfo> LeavesUnder(string eventType, string path) =>
        FieldsOf(eventType).Where(f => f.IsLeaf && Covers(path, f.Path));

    /// <summary>Whether an allow-list path takes in a field path: equal, or the field lies below it.</summary>
    public static bool Covers(string allowed, string path) =>
        path == allowed
        || (path.Length > allowed.Length && path.StartsWith(allowed, StringComparison.Ordinal)
            && (path[allowed.Length] == '.' || path.AsSpan(allowed.Length).StartsWith("[]")));

    static IEnumerable<FieldInfo> Walk(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.Name == "EqualityContract")
            {
                continue;
            }

            var name = char.ToLowerInvariant(property.Name[0]) + property.Name[1..];
            var path = prefix.Length == 0 ? name : $"{prefix}.{name}";
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var element = ElementType(propertyType);
            if (element is not null)
            {
                path += "[]";
                propertyType = Nullable.GetUnderlyingType(element) ?? element;
            }

            var isContract = propertyType.Namespace == typeof(AbsenceReported).Namespace && propertyType.IsClass;
            yield return new FieldInfo(path, !isContract, CategoryOf(path), NationalIdentifiers.GetValueOrDefault(path), SpecialCategories.GetValueOrDefault(path), FreeTextFields.Contains(path))
            {
                SpecialValues = SpecialValuesOf.GetValueOrDefault(path) ?? [],
            };
            if (isContract)
            {
                foreach (var nested in Walk(propertyType, path))
                {
                    yield return nested;
                }
            }
        }
    }

    static Type? ElementType(Type type) =>
        type == typeof(string) ? null
        : type.IsArray ? type.GetElementType()
        : type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) ? type.GetGenericArguments()[0]
        : null;

    /// <summary>The categories of personal data the seeds name, by where a field sits in the event.</summary>
    static string CategoryOf(string path) => path switch
    {
        _ when SpecialCategories.ContainsKey(path) => "special category: " + SpecialCategories[path],
        _ when NationalIdentifiers.ContainsKey(path) => "national identifier",
        "subject.address" or "subject.phone" or "subject.email" => "contact",
        _ when path.StartsWith("subject.address", StringComparison.Ordinal) => "contact",
        _ when path.StartsWith("subject", StringComparison.Ordinal) => "identification",
        _ when path.StartsWith("guardians", StringComparison.Ordinal) => "parents and guardians",
        _ when path.StartsWith("intake", StringComparison.Ordinal) || path.StartsWith("test", StringComparison.Ordinal)
            || path.StartsWith("participation", StringComparison.Ordinal) || path.StartsWith("protection", StringComparison.Ordinal) => "integration trajectory",
        _ when path.StartsWith("rectification", StringComparison.Ordinal) || path.StartsWith("erasure", StringComparison.Ordinal)
            || path.StartsWith("consent", StringComparison.Ordinal) || path.StartsWith("objection", StringComparison.Ordinal) => "data-subject rights",
        _ when path is "eventId" or "occurredAt" or "jurisdiction" || path.StartsWith("source", StringComparison.Ordinal) => "event metadata",
        _ => "education",
    };
}
