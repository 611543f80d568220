using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Sealing;
using IntegrationGateway.IntegrationTests.Infrastructure;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RabbitMQ.Client;

namespace IntegrationGateway.IntegrationTests;

/// <summary>The front door: raw JSON from any language, nothing lost while the gateway is down, nothing dropped unroutably, bad input quarantined.</summary>
public sealed class IntakeTests(ITestOutputHelper output)
{
    static byte[] Json(object e) => JsonSerializer.SerializeToUtf8Bytes(e, e.GetType(), EventJsonContext.Default);

    [Fact]
    public async Task RawJson_PublishedWithThePlainRabbitMqClient_IsAcceptedAndRouted()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var events = new SampleEventGenerator(31, TimeProvider.System).AbsenceReported(5);

        // What a publisher in any language does: no MassTransit, no envelope; the AMQP type property names the event.
        await using (var connection = await TestBed.ConnectAsPublisherAsync())
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            foreach (var e in events)
            {
                var properties = new BasicProperties { UserId = "school-003-magister", Persistent = true, ContentType = "application/json", Type = nameof(AbsenceReported), MessageId = e.EventId.ToString() };
                await channel.BasicPublishAsync(bed.QueueName, routingKey: "", mandatory: true, properties, Json(e));
            }
        }

        var receipts = await bed.WaitForReceiptsAsync("duo", events.Count, TimeSpan.FromSeconds(30));
        var leerplicht = await bed.WaitForReceiptsAsync("leerplicht", events.Count, TimeSpan.FromSeconds(30));

        Assert.Equal(events.Select(e => TransferKeys.Of(e.EventId, "duo-verzuimregister")).Order(), receipts.Select(r => r.IdempotencyKey).Order());
        Assert.Equal(events.Count, leerplicht.Count);
        Assert.Equal(0u, await bed.MessagesInQueueAsync(bed.QuarantineQueue));
    }

    [Fact]
    public async Task Publisher_SendingWhileTheGatewayIsStopped_LosesNothing()
    {
        const int count = 200;
        await using var bed = await TestBed.StartAsync();
        // The gateway ran once, then stopped.
        var first = await bed.StartGatewayInProcessAsync();
        await first.StopAsync();
        await first.DisposeAsync();
        var events = new SampleEventGenerator(32, TimeProvider.System).AbsenceReported(count);

        await using (var publisher = await bed.ConnectIntakePublisherAsync())
        {
            foreach (var e in events)
            {
                await publisher.PublishAsync(nameof(AbsenceReported), Json(e), e.EventId); // confirmed, mandatory: throws if dropped
            }
        }

        var waiting = await bed.MessagesInQueueAsync(bed.QueueName);
        await using var second = await bed.StartGatewayInProcessAsync();
        var receipts = await bed.WaitForReceiptsAsync("duo", count, TimeSpan.FromSeconds(60));

        output.WriteLine($"published {count} with the gateway stopped; waiting in the queue {waiting}; delivered after start {receipts.Count}");
        Assert.Equal((uint)count, waiting);
        Assert.Equal(events.Select(e => (Guid?)e.EventId).Order(), receipts.Select(r => r.EventOf(events.Select(e => e.EventId))).Order());
    }

    [Fact]
    public async Task TopologyDeclaredByDeployment_BeforeAnyGatewayRan_PublishesWaitForTheGateway()
    {
        await using var bed = await TestBed.StartAsync();
        var declare = await GatewayCommandLine.RunAsync(["topology", "declare", .. GatewayCommandLine.BrokerSettings(bed)]);
        output.WriteLine(declare.Out + declare.Err);
        var e = new SampleEventGenerator(40, TimeProvider.System).NextAbsenceReported();

        await using (var publisher = await bed.ConnectIntakePublisherAsync())
        {
            await publisher.PublishAsync(nameof(AbsenceReported), Json(e), e.EventId);
        }

        var waiting = await bed.MessagesInQueueAsync(bed.QueueName);
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var receipts = await bed.WaitForReceiptsAsync("duo", 1, TimeSpan.FromSeconds(30));

        Assert.Equal(0, declare.Exit);
        Assert.Equal(1u, waiting);
        Assert.Equal(TransferKeys.Of(e.EventId, "duo-verzuimregister"), Assert.Single(receipts).IdempotencyKey);
    }

    [Fact]
    public async Task UnroutablePublish_IsReportedToThePublisher_NotDroppedSilently()
    {
        await using var bed = await TestBed.StartAsync();
        var e = new SampleEventGenerator(33, TimeProvider.System).NextAbsenceReported();

        // The exchange exists but nothing is bound to it: RabbitMQ would confirm and drop the message.
        await using (var connection = await TestBed.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.ExchangeDeclareAsync(bed.QueueName, ExchangeType.Fanout, durable: true, autoDelete: false);
        }

        await using var publisher = await bed.ConnectIntakePublisherAsync();
        var returned = await Assert.ThrowsAsync<IntakePublishException>(() => publisher.PublishAsync(nameof(AbsenceReported), Json(e), e.EventId));
        output.WriteLine(returned.Message);

        Assert.Contains("no queue is bound", returned.Message);
        Assert.Contains(bed.QueueName, returned.Message);
        Assert.True(((RabbitMQ.Client.Exceptions.PublishException)returned.InnerException!).IsReturn);
    }

    [Fact]
    public async Task MassTransitPublisher_WithTheRecommendedSettings_IsToldWhenNoIntakeIsBound()
    {
        await using var bed = await TestBed.StartAsync();
        var e = new SampleEventGenerator(37, TimeProvider.System).Next(nameof(TemporaryProtectionRegistered));

        // No gateway has bound the contract exchange in this test's broker state: with confirms and mandatory the
        // publish fails instead of being confirmed and dropped.
        var returned = await Assert.ThrowsAnyAsync<Exception>(() => bed.Publisher.Publish(e, new Action<PublishContext>(TestBed.Mandatory)));
        output.WriteLine($"{returned.GetType().Name}: {returned.Message}");
        Assert.Equal("MessageReturnedException", returned.GetType().Name);

        await using var gateway = await bed.StartGatewayInProcessAsync();
        await bed.Publisher.Publish(e, new Action<PublishContext>(TestBed.Mandatory)); // now bound: confirmed
    }

    [Fact]
    public async Task PublishToAMissingExchange_IsReportedToThePublisher()
    {
        await using var bed = await TestBed.StartAsync();
        var e = new SampleEventGenerator(34, TimeProvider.System).NextAbsenceReported();
        await using var publisher = await bed.ConnectIntakePublisherAsync();

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => publisher.PublishAsync(nameof(AbsenceReported), Json(e), e.EventId));
        output.WriteLine(refused.Message);

        Assert.Contains("NOT_FOUND", refused.Message);
    }

    [Fact]
    public async Task BadMessages_AreQuarantinedSealed_WithPathAndRuleInHeaders_AndCountedByRule()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var generator = new SampleEventGenerator(35, TimeProvider.System);
        var badBsn = JsonSerializer.SerializeToNode(generator.NextAbsenceReported(), EventJsonContext.Default.AbsenceReported)!.AsObject();
        badBsn["subject"]!["bsn"] = "123456789";
        var valid = generator.NextAbsenceReported();
        var sent = new List<(string? Type, byte[] Body)>
        {
            (nameof(AbsenceReported), Encoding.UTF8.GetBytes(badBsn.ToJsonString())),
            (nameof(AbsenceReported), Json(valid)[..120]),
            ("PupilTeleported", Json(valid)),
            (null, Json(valid)),
        };

        await using (var connection = await TestBed.ConnectAsPublisherAsync())
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            foreach (var (type, body) in sent)
            {
                await channel.BasicPublishAsync(bed.QueueName, "", mandatory: true, new BasicProperties { UserId = "school-003-magister", Type = type, Persistent = true }, body);
            }
        }

        var counters = gateway.Services.GetRequiredService<IntakeCounters>();
        await TestBed.WaitUntilAsync($"{sent.Count} quarantined messages", () => !(counters.Quarantined < sent.Count), TimeSpan.FromSeconds(10));

        var quarantined = await bed.DrainAsync(bed.QuarantineQueue);
        using var http = await OpsSignIn.ClientAsync(new Uri(gateway.Urls.First()), "operator");
        var summary = await http.GetFromJsonAsync<JsonObject>("/ops/summary");
        output.WriteLine(summary!["intake"]!.ToJsonString());

        var rules = quarantined.Select(m => $"{m.Headers["x-quarantine-path"]}: {m.Headers["x-quarantine-rule"]}").Order().ToList();
        Assert.Equal(["$: json", "$: missing-type", "$: unknown-type", "subject.bsn: bsn-checksum"], rules);
        Assert.Equal(1, summary["intake"]!["quarantinedByRule"]!["bsn-checksum"]!.GetValue<long>());
        Assert.Equal(4, summary["intake"]!["quarantined"]!.GetValue<long>());
        Assert.Equal(0, summary["intake"]!["accepted"]!.GetValue<long>());

        // Sealed: no value readable in the queue, yet each opens, with the key, to exactly what was sent.
        var seal = Sealer.FromBase64(TestServices.SealingKey).For(SealingPurposes.Quarantine);
        Assert.All(quarantined, m => Assert.Contains(sent, s => s.Body.AsSpan().SequenceEqual(seal.Open(m.Body))));
        var bsnMessage = Assert.Single(quarantined, m => m.Headers["x-quarantine-rule"] == "bsn-checksum");
        Assert.Equal(badBsn["eventId"]!.GetValue<string>(), bsnMessage.MessageId);
        Assert.Equal(nameof(AbsenceReported), bsnMessage.Headers["x-event-type"]);
        var everything = string.Join("\n", quarantined.SelectMany(m => m.Headers.Values.Append(Encoding.UTF8.GetString(m.Body))));
        Assert.DoesNotContain("123456789", everything);
        Assert.DoesNotContain(valid.Subject.FamilyName!, everything);
        Assert.DoesNotContain(valid.Subject.Bsn!, everything);
    }

    [Fact]
    public async Task EventsPublishVerb_GeneratedEvents_AreConfirmedAndDelivered_AndAMissingIntakeIsAnError()
    {
        await using var bed = await TestBed.StartAsync();
        var broker = GatewayCommandLine.BrokerSettings(bed);

        // Before the gateway ever ran, the intake exchange does not exist: the publisher is told, nothing is dropped.
        var (missingExit, _, missingError) = await GatewayCommandLine.RunAsync(["events", "publish", "--type", "AbsenceReported", "--generate", "1", "--environment", "Development", .. broker]);
        output.WriteLine(missingError);
        Assert.Equal(1, missingExit);
        Assert.Contains("NOT_FOUND", missingError);
        Assert.Contains("0 of 1 event(s) had been published", missingError);

        await using var gateway = await bed.StartGatewayInProcessAsync();
        var (exit, stdout, error) = await GatewayCommandLine.RunAsync(["events", "publish", "--type", "AbsenceReported", "--generate", "7", "--seed", "36", "--environment", "Development", .. broker]);
        output.WriteLine(stdout + error);
        var receipts = await bed.WaitForReceiptsAsync("duo", 7, TimeSpan.FromSeconds(30));

        Assert.Equal(0, exit);
        Assert.Contains($"Published 7 event(s) to exchange '{bed.QueueName}' at {TestServices.BrokerAddress} as school-003-magister (7)", stdout);
        Assert.DoesNotContain(TestServices.RabbitPassword, stdout + error);
        var expected = new SampleEventGenerator(36, TimeProvider.System).AbsenceReported(7).Select(e => e.EventId).ToList();
        Assert.Equal(expected.Select(e => (Guid?)e).Order(), receipts.Select(r => r.EventOf(expected)).Order());
    }

    [Fact]
    public async Task QuarantineVerbs_ListWithoutValues_OpenOne_RepublishOnceFixed()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var generator = new SampleEventGenerator(38, TimeProvider.System);
        var untyped = generator.NextAbsenceReported();
        var badBsn = JsonSerializer.SerializeToNode(generator.NextAbsenceReported(), EventJsonContext.Default.AbsenceReported)!.AsObject();
        badBsn["subject"]!["bsn"] = "123456789";
        await using (var connection = await TestBed.ConnectAsPublisherAsync())
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            // A publisher that forgot the type property, and one with a broken BSN.
            await channel.BasicPublishAsync(bed.QueueName, "", mandatory: true, new BasicProperties { UserId = "school-003-magister", Persistent = true, MessageId = untyped.EventId.ToString() }, Json(untyped));
            await channel.BasicPublishAsync(bed.QueueName, "", mandatory: true, new BasicProperties { UserId = "school-003-magister", Persistent = true, Type = "AbsenceReported" }, Encoding.UTF8.GetBytes(badBsn.ToJsonString()));
        }

        var counters = gateway.Services.GetRequiredService<IntakeCounters>();
        await TestBed.WaitUntilAsync("2 quarantined messages", () => !(counters.Quarantined < 2), TimeSpan.FromSeconds(10));

        var settings = GatewayCommandLine.BrokerSettings(bed);
        var list = await GatewayCommandLine.RunAsync(["quarantine", "list", .. settings]);
        output.WriteLine(list.Out + list.Err);
        Assert.Equal(0, list.Exit);
        Assert.Contains("2 message(s) in " + bed.QuarantineQueue + ": bsn-checksum 1, missing-type 1", list.Out);
        Assert.Contains("subject.bsn: bsn-checksum", list.Out);
        Assert.DoesNotContain("123456789", list.Out);
        Assert.DoesNotContain(untyped.Subject.FamilyName!, list.Out);

        var opened = Path.Combine(Path.GetTempPath(), $"quarantined-{Guid.NewGuid():N}.json");
        try
        {
            var open = await GatewayCommandLine.RunAsync(["quarantine", "open", "--event-id", badBsn["eventId"]!.GetValue<string>(), "--out", opened, .. settings, .. GatewayCommandLine.DatabaseSettings]);
            Assert.Equal(0, open.Exit);
            Assert.Equal(badBsn.ToJsonString(), await File.ReadAllTextAsync(opened));
            // Who opened it is in the staff audit (written before the file), which still verifies.
            var audited = await AuditRows.OfAsync("quarantine-opened");
            output.WriteLine($"audit: {string.Join("; ", audited)}");
            Assert.Contains(audited, row => row.StartsWith("cli:", StringComparison.Ordinal) && row.Contains(badBsn["eventId"]!.GetValue<string>(), StringComparison.Ordinal));
            Assert.Equal(0, (await GatewayCommandLine.RunAsync(["audit", "verify", .. GatewayCommandLine.DatabaseSettings])).Exit);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(opened));
            }
        }
        finally
        {
            File.Delete(opened);
        }

        // The publisher's mistake is understood: send the untyped one again, as an AbsenceReported.
        var republish = await GatewayCommandLine.RunAsync(["quarantine", "republish", "--rule", "missing-type", "--type", "AbsenceReported", .. settings, .. GatewayCommandLine.DatabaseSettings]);
        output.WriteLine(republish.Out + republish.Err);
        var receipts = await bed.WaitForReceiptsAsync("duo", 1, TimeSpan.FromSeconds(30));
        var after = await GatewayCommandLine.RunAsync(["quarantine", "list", .. settings]);

        Assert.Equal(0, republish.Exit);
        Assert.Contains("Republished 1 of 1 selected message(s)", republish.Out);
        Assert.Equal(TransferKeys.Of(untyped.EventId, "duo-verzuimregister"), Assert.Single(receipts).IdempotencyKey);
        Assert.Contains("1 message(s) in " + bed.QuarantineQueue + ": bsn-checksum 1", after.Out);
        Assert.Contains(await AuditRows.OfAsync("quarantine-republished"), row => row.StartsWith("cli:", StringComparison.Ordinal) && row.Contains("rule missing-type 1 message(s) selected, as AbsenceReported", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnAdapterThatThrows_HasItsTransferParked_TheConsumerAndTheOtherRecipientsGoOn()
    {
        await using var bed = await TestBed.StartAsync();
        var calls = 0;
        await using var gateway = await bed.StartGatewayInProcessAsync(
            new Dictionary<string, string?>(TestServices.FastDelivery),
            replace: services =>
            {
                // Fault injection: DUO's adapter has a bug that throws instead of returning a result.
                var duo = services.Single(d => d.ServiceType == typeof(Adapters.IRecipientAdapter) && Equals(d.ServiceKey, "duo"));
                services.Remove(duo);
                services.AddKeyedTransient<Adapters.IRecipientAdapter>("duo", (_, _) => new ThrowingAdapter("duo", () => Interlocked.Increment(ref calls)));
            });
        var e = new SampleEventGenerator(39, TimeProvider.System).NextAbsenceReported();

        await using (var publisher = await bed.ConnectIntakePublisherAsync())
        {
            await publisher.PublishAsync(nameof(AbsenceReported), Json(e), e.EventId);
        }

        var officer = await bed.WaitForReceiptsAsync("leerplicht", 1, TimeSpan.FromSeconds(30));
        var parked = await bed.WaitForParkedAsync(1, TimeSpan.FromSeconds(30));

        Assert.Single(officer);
        Assert.Equal(1, parked);
        Assert.Equal(0u, await bed.MessagesInQueueAsync(bed.QuarantineQueue));
        Assert.True(gateway.Services.GetRequiredService<IntakeTransport>().IsConsuming);
    }

    [Fact]
    public async Task TheGatewayFailingOnAnEvent_DoesNotStopTheConsumer_TheEventIsQuarantinedAsProcessingAfterItsRetries()
    {
        await using var bed = await TestBed.StartAsync();
        var attempts = 0;
        await using var gateway = await bed.StartGatewayInProcessAsync(
            new Dictionary<string, string?> { ["Intake:RetryLimit"] = "2" },
            replace: services =>
            {
                // Fault injection: a bug in the gateway itself, on the way from an accepted event to its decisions.
                services.RemoveAll<Gateway.Storage.ISubjectRegistry>();
                services.AddSingleton<Gateway.Storage.ISubjectRegistry>(new BuggySubjects(() => Interlocked.Increment(ref attempts)));
            });
        var e = new SampleEventGenerator(40, TimeProvider.System).NextAbsenceReported();

        await using (var publisher = await bed.ConnectIntakePublisherAsync())
        {
            await publisher.PublishAsync(nameof(AbsenceReported), Json(e), e.EventId);
        }

        var counters = gateway.Services.GetRequiredService<IntakeCounters>();
        await TestBed.WaitUntilAsync("the event quarantined as processing", () => !(counters.Quarantined < 1), TimeSpan.FromSeconds(10));

        var quarantined = Assert.Single(await bed.DrainAsync(bed.QuarantineQueue));
        output.WriteLine($"attempts {attempts}; quarantined {quarantined.Headers["x-quarantine-reasons"]}");
        Assert.Equal("processing", quarantined.Headers["x-quarantine-rule"]);
        Assert.Equal(e.EventId.ToString("D"), quarantined.MessageId);
        Assert.Equal(3, attempts); // the first and two retries
        Assert.True(gateway.Services.GetRequiredService<IntakeTransport>().IsConsuming);
    }

    sealed class ThrowingAdapter(string recipient, Action called) : Adapters.IRecipientAdapter
    {
        public string Recipient => recipient;

        public Task<Adapters.DeliveryResult> DeliverAsync(Adapters.OutboundTransfer transfer, CancellationToken cancellationToken)
        {
            called();
            throw new InvalidOperationException("a bug in the adapter");
        }
    }

    sealed class BuggySubjects(Action called) : Gateway.Storage.ISubjectRegistry
    {
        public Task ApplyAsync(string controller, string eventType, System.Text.Json.JsonElement body, DateTimeOffset now, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<Gateway.Policy.SubjectState> ForAsync(string controller, byte[][] pseudonyms, CancellationToken cancellationToken)
        {
            called();
            throw new InvalidOperationException("a bug");
        }
    }
}
