using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Sealing;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace IntegrationGateway.IntegrationTests;

/// <summary>
/// Ten thousand messages, most of them broken in the ways publishers break them, through the real intake on
/// RabbitMQ: the consumer keeps running, every message is accounted for (accepted or quarantined), and none of
/// the personal values they carried shows up in the logs or the quarantine queue.
/// </summary>
public sealed class IntakeFuzzTests(ITestOutputHelper output)
{
    const int Messages = 10_000;
    const int Pool = 300;

    sealed record Fuzzed(string Mutation, string? ContentType, string? Type, string Exchange, byte[] Body);

    [Fact]
    public async Task Fuzz_10000MutatedMessages_AllAccountedFor_ConsumerKeepsRunning_NoPersonalValueLeaks()
    {
        await using var bed = await TestBed.StartAsync();
        var logs = new CapturedLogs();
        await using var gateway = await bed.StartGatewayInProcessAsync(
            new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Debug" },
            builder =>
            {
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(logs);
            });
        var counters = gateway.Services.GetRequiredService<IntakeCounters>();

        var generator = new SampleEventGenerator(777, TimeProvider.System);
        var pool = Enumerable.Range(0, Pool).Select(i =>
        {
            var type = SampleEventGenerator.EventTypes[i % SampleEventGenerator.EventTypes.Count];
            return (Type: type, Json: JsonSerializer.SerializeToUtf8Bytes(generator.Next(type), EventJson.ContractType(type), EventJsonContext.Default));
        }).ToList();
        var random = new Random(4242);
        var messages = Enumerable.Range(0, Messages).Select(i => Mutate(pool[i % Pool].Type, pool[i % Pool].Json, random, bed.QueueName)).ToList();

        var publishing = Stopwatch.StartNew();
        await using (var connection = await TestBed.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            foreach (var chunk in messages.Chunk(100))
            {
                await Task.WhenAll(chunk.Select(async m =>
                    await channel.BasicPublishAsync(m.Exchange, "", mandatory: true, new BasicProperties { ContentType = m.ContentType, Type = m.Type, Persistent = true }, m.Body)));
            }
        }

        var published = publishing.Elapsed;
        var settling = Stopwatch.StartNew();
        while (counters.Accepted + counters.Quarantined < Messages && settling.Elapsed < TimeSpan.FromMinutes(4))
        {
            await Task.Delay(200);
        }

        var settled = settling.Elapsed;
        var accepted = counters.Accepted;
        var quarantinedCount = counters.Quarantined;

        // Still running: ready, and a good event published now is delivered.
        using var http = new HttpClient { BaseAddress = new Uri(gateway.Urls.First()) };
        using var ready = await http.GetAsync("/health/ready");
        var last = new SampleEventGenerator(778, TimeProvider.System).NextAbsenceReported();
        await using (var publisher = await bed.ConnectIntakePublisherAsync())
        {
            await publisher.PublishAsync("AbsenceReported", JsonSerializer.SerializeToUtf8Bytes(last, EventJsonContext.Default.AbsenceReported), last.EventId);
        }

        bool LastDelivered() => bed.Receipts.List("duo").Any(r => r.IdempotencyKey.StartsWith(last.EventId.ToString("D"), StringComparison.Ordinal));
        await TestBed.WaitUntilAsync(LastDelivered, TimeSpan.FromSeconds(10));
        var lastDelivered = LastDelivered();

        var quarantined = await bed.DrainAsync(bed.QuarantineQueue);
        var left = await bed.MessagesInQueueAsync(bed.QueueName);

        var byRule = counters.QuarantinedByRule;
        var byMutation = messages.GroupBy(m => m.Mutation).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}");
        output.WriteLine($"sent {Messages} in {published.TotalSeconds:0.0} s ({string.Join(", ", byMutation)})");
        output.WriteLine($"settled in {settled.TotalSeconds:0.0} s: accepted {accepted} (subject state only {counters.SubjectStateOnly}), quarantined {quarantinedCount}; " +
                         $"accepted + quarantined = {accepted + quarantinedCount}");
        output.WriteLine($"quarantined by rule: {string.Join(", ", byRule.Select(kv => $"{kv.Key} {kv.Value}"))}");
        output.WriteLine($"in quarantine queue {quarantined.Count}; left in intake {left}; receipts {bed.Receipts.List(null).Count}");

        Assert.Equal(Messages, accepted + quarantinedCount);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.True(lastDelivered, "an event published after the fuzz was not delivered: the consumer stopped");
        Assert.Equal(0u, left);
        Assert.Equal(quarantinedCount, quarantined.Count);
        // The messages left unbroken are all accepted, and those broken beyond repair all land in quarantine.
        Assert.True(accepted >= messages.Count(m => m.Mutation.StartsWith("valid", StringComparison.Ordinal)), "a valid message was refused");
        string[] alwaysBroken = ["truncated", "huge-string", "deep-nesting", "invalid-utf8", "unknown-type", "missing-type", "bad-identifier", "garbage", "duplicate-property", "bad-envelope"];
        Assert.True(quarantinedCount >= messages.Count(m => alwaysBroken.Contains(m.Mutation)), "a broken message was accepted");
        foreach (var rule in new[] { "json", "size", "missing-type", "unknown-type", "type", "envelope", "type-conflict", "bsn-checksum" })
        {
            Assert.True(byRule.ContainsKey(rule), $"no message was quarantined for {rule}");
        }

        // Nothing lost: every quarantined message opens, with the key, to bytes that were sent.
        var seal = Sealer.FromBase64(TestServices.SealingKey);
        var sentBodies = messages.Select(m => Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(m.Body))).ToHashSet();
        Assert.All(quarantined, q => Assert.Contains(Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(seal.Open(q.Body))), sentBodies));

        // No personal value of any event in the logs or anywhere in the quarantine queue.
        var personal = pool.SelectMany(p => PersonalValues.Of(JsonNode.Parse(p.Json)!)).Distinct().ToArray();
        var search = SearchValues.Create(personal, StringComparison.Ordinal);
        var logLines = logs.Lines.ToList();
        var leakedInLogs = logLines.FirstOrDefault(l => l.AsSpan().IndexOfAny(search) >= 0);
        var leakedInQuarantine = quarantined
            .SelectMany(q => q.Headers.Select(h => $"{h.Key}={h.Value}").Append(Encoding.UTF8.GetString(q.Body)))
            .FirstOrDefault(text => text.AsSpan().IndexOfAny(search) >= 0);
        output.WriteLine($"scanned {logLines.Count} log lines and {quarantined.Count} quarantined messages (headers and bodies) for {personal.Length} personal values");
        Assert.True(leakedInLogs is null, $"a personal value in the logs: {leakedInLogs}");
        Assert.True(leakedInQuarantine is null, "a personal value in the quarantine queue");
        Assert.Contains(logLines, l => l.Contains("Quarantined a message", StringComparison.Ordinal)); // the scan saw the intake's own lines
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
