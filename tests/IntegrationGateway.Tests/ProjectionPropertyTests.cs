using System.Text.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;
using Xunit.Abstractions;

namespace IntegrationGateway.Tests;

/// <summary>
/// Generated input: for every event type, 10,000 events built from a realistic one and then mutated with members no
/// contract declares at every depth (inside objects an agreement allows whole too), deep nesting, arrays where
/// objects were, objects where values were, nulls and empty containers. For every allow decision of every shipped
/// agreement: each leaf of the payload is a leaf the contract declares and the allow-list covers (payload leaves ⊆
/// contract leaves ∩ allow-list), the payload's leaves are exactly the disclosed ones, and disclosed ∪ withheld is
/// exactly the event's leaves.
/// </summary>
public class ProjectionPropertyTests(ITestOutputHelper output)
{
    const int EventsPerType = 10_000;
    static readonly DateTimeOffset At = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);
    static readonly string[] Names = ["bsn", "email", "givenName", "remark", "medicalNotes", "x", "rijksregisternummer", "secret", "phone", "street", "from", "candidateBsn", "Jan Jansen"];

    /// <summary>Every event type that some shipped agreement routes (the data-subject events are routed to nobody).</summary>
    public static TheoryData<string> EventTypes => new(
        AgreementLoader.LoadDirectory(RepoPaths.Agreements).Agreements.SelectMany(a => a.EventTypes).Distinct().Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(EventTypes))]
    public void Project_RandomEvents_DisclosesOnlyTheAllowListAndAccountsForEveryLeaf(string eventType)
    {
        var agreements = TestAgreements.ShippedAsIfComplete();
        var engine = new PolicyEngine(agreements);
        var consentsForAll = new SubjectState
        {
            Consents = agreements.Where(a => a.ConsentPurpose is not null).ToDictionary(a => a.ConsentPurpose!, _ => ConsentStatus.Given),
        };
        var generator = new SampleEventGenerator(eventType.GetHashCode(StringComparison.Ordinal), TimeProvider.System);
        var random = new Random(EventsPerType + eventType.Length);
        // What decides routing stays as generated, so that most events are routed and their payloads checked.
        var routingFacts = agreements.SelectMany(a => a.When.Select(c => c.Path)).Append("jurisdiction").Append("source.institutionId").ToHashSet(StringComparer.Ordinal);
        var allowed = 0;
        var undeclared = new Counts(eventType);
        var wholeObjects = agreements.Where(a => a.EventTypes.Contains(eventType))
            .SelectMany(a => a.Fields.Paths).Where(p => EventCatalogue.Default.Field(eventType, p) is { IsLeaf: false })
            .ToHashSet(StringComparer.Ordinal);

        for (var i = 0; i < EventsPerType; i++)
        {
            var node = JsonSerializer.SerializeToNode(generator.Next(eventType), EventJson.ContractType(eventType), EventJsonContext.Default)!.AsObject();
            Mutate(node, random, depth: 0, path: "", routingFacts, undeclared, wholeObjects);
            using var document = JsonDocument.Parse(node.ToJsonString());
            var body = document.RootElement;
            var eventLeaves = TestAgreements.LeavesOf(body);

            foreach (var decision in engine.Evaluate(TestAgreements.ShippedFacts(eventType, body), body, consentsForAll, At, TestAgreements.References))
            {
                if (!decision.Allowed)
                {
                    continue;
                }

                allowed++;
                using var payload = JsonDocument.Parse(decision.Payload!);
                var payloadLeaves = TestAgreements.LeavesOf(payload.RootElement);
                var uncovered = payloadLeaves.Where(leaf => !decision.Agreement.Fields.Paths.Any(p => EventCatalogue.Covers(p, leaf))).ToList();
                Assert.True(uncovered.Count == 0, $"{decision.Agreement.Id} disclosed {string.Join(", ", uncovered)} outside its allow-list in {node.ToJsonString()}");
                var undeclaredSent = payloadLeaves.Where(leaf => EventCatalogue.Default.Field(eventType, leaf) is not { IsLeaf: true }).ToList();
                Assert.True(undeclaredSent.Count == 0, $"{decision.Agreement.Id} disclosed {string.Join(", ", undeclaredSent)}, which the contract does not declare, in {node.ToJsonString()}");
                AssertLeavesAreValues(payload.RootElement);

                var disclosed = new HashSet<string>(StringComparer.Ordinal);
                var withheld = new HashSet<string>(StringComparer.Ordinal);
                decision.Agreement.Fields.Classify(eventType, body, disclosed, withheld);
                Assert.True(disclosed.SetEquals(payloadLeaves), $"{decision.Agreement.Id}: disclosed [{string.Join(", ", disclosed.Order())}] but the payload has [{string.Join(", ", payloadLeaves.Order())}]");
                Assert.True(disclosed.Union(withheld).ToHashSet().SetEquals(eventLeaves), $"{decision.Agreement.Id}: disclosed ∪ withheld is not the event's leaves");
            }
        }

        output.WriteLine($"{eventType}: {EventsPerType} events, {allowed} allow decisions checked; {undeclared.Added} undeclared members added, "
            + $"{undeclared.InsideWholeObjects} of them inside objects an agreement allows whole ({string.Join(", ", wholeObjects.Order())}), deepest at depth {undeclared.Deepest}");
        Assert.True(allowed >= EventsPerType, $"only {allowed} allow decisions for {eventType}: the test would prove little");
        Assert.True(wholeObjects.Count == 0 || undeclared.InsideWholeObjects >= EventsPerType / 2, $"only {undeclared.InsideWholeObjects} undeclared members inside whole-allowed objects of {eventType}");
    }

    public static TheoryData<string> AllEventTypes => new(SampleEventGenerator.EventTypes);

    /// <summary>
    /// The same laws for random allow-lists: any mix of leaf, object and array paths of the contract, whole and partial
    /// over each other, plus paths the contract does not have. Also checks that every payload value outside an array
    /// is the event's value at that path.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllEventTypes))]
    public void Project_RandomAllowLists_KeepTheSameLaws(string eventType)
    {
        var catalogue = EventCatalogue.Default.FieldsOf(eventType).Select(f => f.Path).ToArray();
        var generator = new SampleEventGenerator(eventType.Length * 7, TimeProvider.System);
        var random = new Random(eventType.GetHashCode(StringComparison.Ordinal));
        var noFacts = new HashSet<string>(StringComparer.Ordinal);
        var checkedLeaves = 0;

        for (var i = 0; i < EventsPerType; i++)
        {
            var paths = catalogue.Where(_ => random.Next(4) == 0)
                .Append(Names[random.Next(Names.Length)])
                .Select(p => random.Next(5) == 0 && p.EndsWith("[]", StringComparison.Ordinal) ? p[..^2] : p) // a whole array by its plain name
                .Distinct().ToList();
            FieldSelection selection;
            try
            {
                selection = FieldSelection.Parse(paths);
            }
            catch (FormatException)
            {
                continue; // "x" and "x[]" together: refused at load, nothing to project
            }

            var node = JsonSerializer.SerializeToNode(generator.Next(eventType), EventJson.ContractType(eventType), EventJsonContext.Default)!.AsObject();
            Mutate(node, random, depth: 0, path: "", noFacts, new Counts(eventType), noFacts);
            using var document = JsonDocument.Parse(node.ToJsonString(), EventJson.DocumentOptions);
            var body = document.RootElement;
            using var payload = JsonDocument.Parse(selection.Project(eventType, body, reference: null));

            var payloadLeaves = TestAgreements.LeavesOf(payload.RootElement);
            var disclosed = new HashSet<string>(StringComparer.Ordinal);
            var withheld = new HashSet<string>(StringComparer.Ordinal);
            selection.Classify(eventType, body, disclosed, withheld);
            Assert.DoesNotContain(payloadLeaves, leaf => !paths.Any(p => EventCatalogue.Covers(p, leaf)));
            Assert.DoesNotContain(payloadLeaves, leaf => EventCatalogue.Default.Field(eventType, leaf) is not { IsLeaf: true });
            AssertLeavesAreValues(payload.RootElement);
            Assert.True(disclosed.SetEquals(payloadLeaves), $"disclosed [{string.Join(", ", disclosed.Order())}] but the payload has [{string.Join(", ", payloadLeaves.Order())}]");
            Assert.True(disclosed.Union(withheld).ToHashSet().SetEquals(TestAgreements.LeavesOf(body)));
            foreach (var leaf in payloadLeaves.Where(l => !l.Contains("[]", StringComparison.Ordinal)))
            {
                Assert.Equal(ValueAt(body, leaf), ValueAt(payload.RootElement, leaf));
                checkedLeaves++;
            }
        }

        output.WriteLine($"{eventType}: {EventsPerType} random allow-lists, {checkedLeaves} payload values compared with the event");
    }

    static string ValueAt(JsonElement root, string path)
    {
        var value = root;
        foreach (var segment in path.Split('.'))
        {
            value = value.GetProperty(segment);
        }

        return value.GetRawText();
    }

    /// <summary>A payload's leaves are values: never an object, an array or null standing where the contract has a value.</summary>
    static void AssertLeavesAreValues(JsonElement value, bool root = true)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                Assert.True(root || value.EnumerateObject().Any(), "an empty object in a payload");
                foreach (var p in value.EnumerateObject())
                {
                    AssertLeavesAreValues(p.Value, root: false);
                }

                break;
            case JsonValueKind.Array:
                Assert.True(value.GetArrayLength() > 0, "an empty array in a payload");
                foreach (var e in value.EnumerateArray())
                {
                    Assert.NotEqual(JsonValueKind.Array, e.ValueKind); // no contract has a list of lists
                    AssertLeavesAreValues(e, root: false);
                }

                break;
            default:
                Assert.NotEqual(JsonValueKind.Null, value.ValueKind);
                break;
        }
    }

    sealed class Counts(string eventType)
    {
        public bool Declares(string path) => EventCatalogue.Default.Field(eventType, path) is not null;

        public int Added { get; set; }
        public int InsideWholeObjects { get; set; }
        public int Deepest { get; set; }
    }


    /// <summary>
    /// Adds, reshapes and empties things, but leaves the routing facts and the objects holding them in shape. Every
    /// object of the contract's shape gets at least one member the contract does not declare.
    /// </summary>
    static void Mutate(JsonObject obj, Random random, int depth, string path, IReadOnlySet<string> routingFacts, Counts undeclared, IReadOnlySet<string> wholeObjects)
    {
        foreach (var name in obj.Select(p => p.Key).ToList())
        {
            var childPath = path.Length == 0 ? name : $"{path}.{name}";
            if (routingFacts.Contains(childPath))
            {
                if (obj[name] is JsonObject fact)
                {
                    Mutate(fact, random, depth + 1, childPath, routingFacts, undeclared, wholeObjects); // still present, with more in it
                }

                continue;
            }

            var holdsFact = routingFacts.Any(f => f.StartsWith(childPath + ".", StringComparison.Ordinal));
            var roll = holdsFact ? 0 : random.Next(100);
            switch (obj[name])
            {
                case JsonObject child when roll < 70:
                    Mutate(child, random, depth + 1, childPath, routingFacts, undeclared, wholeObjects);
                    break;
                case JsonArray array when roll < 70:
                    foreach (var element in array.OfType<JsonObject>())
                    {
                        Mutate(element, random, depth + 1, childPath + "[]", routingFacts, undeclared, wholeObjects);
                    }

                    if (random.Next(4) == 0)
                    {
                        array.Add(random.Next(3) == 0 ? null : RandomValue(random, depth + 1));
                    }

                    break;
                case var _ when roll < 76:
                    obj[name] = RandomValue(random, depth + 1); // another shape than the contract's
                    break;
                case var _ when roll < 79:
                    obj[name] = null;
                    break;
                case var _ when roll < 81:
                    obj[name] = random.Next(2) == 0 ? new JsonObject() : new JsonArray();
                    break;
            }
        }

        var inWhole = wholeObjects.Any(w => EventCatalogue.Covers(w, path));
        for (var extra = 1 + random.Next(2); extra > 0; extra--)
        {
            // Members the contract does not declare, often with the names of personal fields elsewhere.
            var name = Names[random.Next(Names.Length)] + (random.Next(3) == 0 ? "" : random.Next(100).ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (obj.ContainsKey(name) || undeclared.Declares(path.Length == 0 ? name : $"{path}.{name}"))
            {
                continue; // a declared member, or one added already
            }

            obj[name] = RandomValue(random, depth + 1);
            undeclared.Added++;
            undeclared.InsideWholeObjects += inWhole ? 1 : 0;
            undeclared.Deepest = Math.Max(undeclared.Deepest, depth);
        }
    }

    static JsonNode? RandomValue(Random random, int depth) => (depth > 24 ? random.Next(3) : random.Next(7)) switch
    {
        0 => JsonValue.Create("value-" + random.Next(1000)),
        1 => JsonValue.Create(random.Next(-1000, 1000)),
        2 => JsonValue.Create(random.Next(2) == 0),
        3 => new JsonObject { [Names[random.Next(Names.Length)]] = RandomValue(random, depth + 1), ["nested"] = RandomValue(random, depth + 1) },
        4 => new JsonArray(RandomValue(random, depth + 1), RandomValue(random, depth + 1)),
        5 => new JsonArray(new JsonObject { ["email"] = "e@example.nl", ["deep"] = RandomValue(random, depth + 1) }),
        _ => null,
    };
}
