using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;

namespace IntegrationGateway.Testing;

/// <summary>A message as a publisher might send it, and how it was broken (<c>valid-*</c> when it was not).</summary>
internal sealed record Fuzzed(string Mutation, string? ContentType, string? Type, string Exchange, byte[] Body)
{
    /// <summary>The broker user of the controller the event came from, before it was broken: who publishes it.</summary>
    public string? UserId { get; init; }

    public IntakeMessage Message => new(Body, ContentType, Type, Exchange, UserId);
}

/// <summary>
/// Messages broken in the ways publishers break them, from a pool of realistic events; the same corpus for the
/// component tier (the handler alone) and the integration tier (through RabbitMQ). Deterministic.
/// </summary>
internal static class FuzzCorpus
{
    const int Pool = 300;

    /// <summary>Mutations no intake may accept.</summary>
    public static readonly string[] AlwaysBroken = ["truncated", "huge-string", "deep-nesting", "invalid-utf8", "unknown-type", "missing-type", "bad-identifier", "garbage", "duplicate-property", "bad-envelope"];

    /// <summary>Rules a corpus of a few thousand messages always exercises.</summary>
    public static readonly string[] RulesSeen = ["json", "size", "missing-type", "unknown-type", "type", "envelope", "type-conflict", "bsn-checksum"];

    public static (List<(string Type, byte[] Json)> Pool, List<Fuzzed> Messages) Build(int count, string intakeExchange)
    {
        var generator = new SampleEventGenerator(777, TimeProvider.System);
        var pool = Enumerable.Range(0, Pool).Select(i =>
        {
            var type = SampleEventGenerator.EventTypes[i % SampleEventGenerator.EventTypes.Count];
            return (Type: type, Json: JsonSerializer.SerializeToUtf8Bytes(generator.Next(type), EventJson.ContractType(type), EventJsonContext.Default));
        }).ToList();
        var random = new Random(4242);
        var publishers = pool.Select(p => PublisherOf(p.Json)).ToList();
        return (pool, Enumerable.Range(0, count).Select(i => Mutate(pool[i % Pool].Type, pool[i % Pool].Json, random, intakeExchange) with { UserId = publishers[i % Pool] }).ToList());
    }

    /// <summary>The broker user of the shipped controller the event's source.institutionId names.</summary>
    public static string? PublisherOf(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        return IntegrationGateway.Tests.TestAgreements.Shipped.ByInstitution(Gateway.Policy.EventFacts.InstitutionOf(document.RootElement))?.BrokerUsers[0];
    }

    static Fuzzed Mutate(string type, byte[] json, Random random, string intakeExchange)
    {
        string? raw = random.Next(2) == 0 ? "application/json" : null; // content type is optional for raw JSON
        JsonObject Node() => JsonNode.Parse(json)!.AsObject();
        byte[] Bytes(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());
        Fuzzed Raw(string mutation, byte[] body, string? typeProperty = null) => new(mutation, raw, typeProperty ?? type, intakeExchange, body);

        switch (random.Next(16))
        {
            case 0:
            case 1:
                return Raw("valid-raw", json);
            case 2:
                return new("valid-envelope", IntakeReader.MassTransitContentType, null, intakeExchange, Envelope(Node(), $"urn:message:IntegrationGateway.Contracts:{type}"));
            case 3:
                return new("valid-contract-exchange", raw, null, IntakeTopology.ContractExchange(type), json);
            case 4:
                return Raw("truncated", json[..random.Next(0, json.Length - 1)]);
            case 5:
            {
                var node = Node();
                var (parent, key) = RandomLeaf(node, random);
                parent[key] = random.Next(3) switch { 0 => JsonValue.Create(random.Next()), 1 => new JsonArray(1, 2), _ => JsonValue.Create(true) };
                return Raw("wrong-type", Bytes(node));
            }

            case 6:
            {
                var node = Node();
                node["subject"]!["givenName"] = new string('x', random.Next(70_000, 300_000));
                return Raw("huge-string", Bytes(node));
            }

            case 7:
            {
                var depth = random.Next(65, 2_000);
                var text = Encoding.UTF8.GetString(json);
                var at = text.IndexOf("\"subject\":", StringComparison.Ordinal) + "\"subject\":".Length;
                return Raw("deep-nesting", Encoding.UTF8.GetBytes(text[..at] + new string('[', depth) + "1" + new string(']', depth) + ",\"x\":" + text[at..]));
            }

            case 8:
            {
                var at = json.AsSpan().IndexOf("\"familyName\":\""u8) + 14;
                // Invalid bytes, an encoded surrogate, or valid bytes that escape a lone surrogate ("\uD800").
                byte[] broken = random.Next(4) switch { 0 => [0xFF], 1 => [0xC3, 0x28], 2 => [0xED, 0xA0, 0x80], _ => "\\uD800"u8.ToArray() };
                return Raw("invalid-utf8", [.. json[..at], .. broken, .. json[at..]]);
            }

            case 9:
                return Raw("unknown-type", json, $"Pupil{random.Next(1000)}");
            case 10:
                return new("missing-type", raw, null, intakeExchange, json);
            case 11:
            {
                var node = Node();
                node.Remove(random.Next(3) switch { 0 => "eventId", 1 => "subject", _ => "occurredAt" });
                return Raw("missing-required", Bytes(node));
            }

            case 12:
            {
                var node = Node();
                var subject = node["subject"]!.AsObject();
                if (subject["bsn"] is { } bsn)
                {
                    var digits = ((string)bsn!).ToCharArray();
                    digits[8] = (char)('0' + ((digits[8] - '0' + 1 + random.Next(8)) % 10));
                    subject["bsn"] = new string(digits);
                }
                else
                {
                    subject["rijksregisternummer"] = "85073003329";
                }

                return Raw("bad-identifier", Bytes(node));
            }

            case 13:
            {
                var garbage = new byte[random.Next(0, 2_000)];
                random.NextBytes(garbage);
                return Raw("garbage", garbage);
            }

            case 14:
            {
                var text = Encoding.UTF8.GetString(json);
                return Raw("duplicate-property", Encoding.UTF8.GetBytes("{\"eventId\":\"" + Guid.NewGuid() + "\"," + text[1..]));
            }

            default:
                return random.Next(4) switch
                {
                    0 => new("bad-envelope", IntakeReader.MassTransitContentType, null, intakeExchange, Encoding.UTF8.GetBytes(new JsonObject { ["messageType"] = new JsonArray($"urn:message:IntegrationGateway.Contracts:{type}") }.ToJsonString())),
                    1 => new("bad-envelope", IntakeReader.MassTransitContentType, null, intakeExchange, Envelope(Node(), "urn:message:Acme.Sis:StudentMoved")),
                    2 => new("bad-envelope", IntakeReader.MassTransitContentType, null, intakeExchange, json),
                    _ => new("bad-envelope", IntakeReader.MassTransitContentType, type == "StudentEnrolled" ? "AbsenceReported" : "StudentEnrolled", intakeExchange, Envelope(Node(), $"urn:message:IntegrationGateway.Contracts:{type}")),
                };
        }
    }

    static byte[] Envelope(JsonObject message, string urn) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["messageId"] = Guid.NewGuid().ToString(),
        ["messageType"] = new JsonArray(urn),
        ["message"] = message,
        ["headers"] = new JsonObject(),
    }.ToJsonString());

    static (JsonObject Parent, string Key) RandomLeaf(JsonObject root, Random random)
    {
        var parent = root;
        while (true)
        {
            var properties = parent.ToList();
            var (key, value) = properties[random.Next(properties.Count)];
            if (value is JsonObject child && child.Count > 0 && random.Next(3) > 0)
            {
                parent = child;
                continue;
            }

            return (parent, key);
        }
    }
}
