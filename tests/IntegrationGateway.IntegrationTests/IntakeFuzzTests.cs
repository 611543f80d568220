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

        var (pool, messages) = FuzzCorpus.Build(Messages, bed.QueueName);

        var publishing = Stopwatch.StartNew();
        // Each message as the controller whose event it was made from publishes it: its own connection and user_id.
        var channels = new Dictionary<string, IChannel>(StringComparer.Ordinal);
        var connections = new List<IConnection>();
        foreach (var user in messages.Select(m => m.UserId!).Distinct())
        {
            var connection = await TestBed.ConnectAsPublisherAsync(user);
            connections.Add(connection);
            channels[user] = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        }

        try
        {
            foreach (var chunk in messages.Chunk(100))
            {
                await Task.WhenAll(chunk.Select(async m =>
                    await channels[m.UserId!].BasicPublishAsync(m.Exchange, "", mandatory: true, new BasicProperties { ContentType = m.ContentType, Type = m.Type, Persistent = true, UserId = m.UserId }, m.Body)));
            }
        }
        finally
        {
            foreach (var channel in channels.Values)
            {
                await channel.DisposeAsync();
            }

            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
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

        bool LastDelivered() => bed.Receipts.List("duo").Any(r => r.IsOf(last.EventId));
        await TestBed.WaitUntilAsync("the event published after the fuzz to reach DUO", LastDelivered, TimeSpan.FromSeconds(10));
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
        Assert.True(quarantinedCount >= messages.Count(m => FuzzCorpus.AlwaysBroken.Contains(m.Mutation)), "a broken message was accepted");
        foreach (var rule in FuzzCorpus.RulesSeen)
        {
            Assert.True(byRule.ContainsKey(rule), $"no message was quarantined for {rule}");
        }

        // Nothing lost: every quarantined message opens, with the key, to bytes that were sent.
        var seal = Sealer.FromBase64(TestServices.SealingKey).For(SealingPurposes.Quarantine);
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
}
