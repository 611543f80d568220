using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace IntegrationGateway.Tests.Component;

/// <summary>
/// The intake's decisions with no broker: the handler, the shipped agreements, the pipeline on in-memory stores and
/// recipients that accept everything. The same 10,000-message corpus the integration tier sends through RabbitMQ.
/// </summary>
[Trait("Tier", "Component")]
public class IntakeHandlerTests(ITestOutputHelper output) : IDisposable
{
    readonly ComponentBed _bed = new();
    readonly CapturedLogs _logs = new();
    ILoggerFactory? _loggers;

    public void Dispose() => _loggers?.Dispose();

    IntakeHandler Handler(TimeProvider time, ISubjectRegistry? subjects = null, int retryLimit = 3)
    {
        var agreements = AgreementLoader.LoadDirectory(RepoPaths.Agreements).Agreements;
        var recipients = agreements.Select(a => a.Recipient).Distinct().Select(r => new ScriptedRecipient(r, ScriptedRecipient.Answer(201))).ToArray();
        var loggers = _loggers = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
        var gateway = new TestGateway { Store = _bed.Store, Routes = _bed.Routes, Ledger = _bed.Ledger, Subjects = subjects ?? _bed.Subjects, History = _bed.Ledger, Keys = _bed.Keys, Time = time, Loggers = loggers };
        var intake = Options.Create(new IntakeOptions { RetryLimit = retryLimit });
        return new IntakeHandler(
            new IntakeReader(new EventValidator(time)), TestAgreements.Shipped,
            new EventProcessor(subjects ?? _bed.Subjects, _bed.Events, _bed.Keys, gateway.Pipeline(new PolicyEngine(agreements), TestGateway.Adapters(recipients)), time),
            gateway.Outage, Counters, time, intake, new Logger<IntakeHandler>(loggers));
    }

    IntakeCounters Counters { get; } = new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());

    /// <summary>The event as raw JSON, published by the broker user of the shipped controller it names.</summary>
    static IntakeMessage Raw(object e)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(e, e.GetType(), EventJsonContext.Default);
        return new(json, "application/json", e.GetType().Name, "integration-gateway.intake", FuzzCorpus.PublisherOf(json));
    }

    [Fact]
    public async Task Fuzz_10000Messages_EachAcceptedOrQuarantinedByItsRule_NoPersonalValueInReasonsOrLogs()
    {
        // The corpus's events carry today's dates: the clock starts now, and stands still.
        var handler = Handler(new FakeTimeProvider(TimeProvider.System.GetUtcNow()));
        var (pool, messages) = FuzzCorpus.Build(10_000, "integration-gateway.intake");
        var results = new List<(Fuzzed Message, IntakeResult Result)>(messages.Count);
        var watch = Stopwatch.StartNew();

        foreach (var message in messages)
        {
            results.Add((message, await handler.HandleAsync(message.Message, headers: null, redelivered: false, CancellationToken.None)));
        }

        var quarantined = results.Where(r => r.Result is IntakeResult.Quarantined).ToList();
        var byRule = quarantined.GroupBy(r => ((IntakeResult.Quarantined)r.Result).Violations[0].Rule).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"{messages.Count} messages in {watch.Elapsed.TotalSeconds:0.0} s: accepted {results.Count(r => r.Result is IntakeResult.Accepted)}, quarantined {quarantined.Count} "
            + $"({string.Join(", ", byRule.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}"))}); transfers decided {_bed.Ledger.Entries.Count}");
        Assert.DoesNotContain(results, r => r.Result is IntakeResult.Retry);
        Assert.All(results.Where(r => r.Message.Mutation.StartsWith("valid", StringComparison.Ordinal)), r => Assert.IsType<IntakeResult.Accepted>(r.Result));
        Assert.All(results.Where(r => FuzzCorpus.AlwaysBroken.Contains(r.Message.Mutation)), r => Assert.IsType<IntakeResult.Quarantined>(r.Result));
        Assert.All(FuzzCorpus.RulesSeen, rule => Assert.True(byRule.ContainsKey(rule), $"no message was quarantined for {rule}"));
        Assert.Equal(results.Count - quarantined.Count, Counters.Accepted);

        var personal = pool.SelectMany(p => PersonalValues.Of(JsonNode.Parse(p.Json)!)).Distinct().ToArray();
        var search = SearchValues.Create(personal, StringComparison.Ordinal);
        var reasons = quarantined.SelectMany(q => ((IntakeResult.Quarantined)q.Result).Violations).Select(v => v.ToString()).Distinct().ToList();
        Assert.DoesNotContain(reasons, r => r.AsSpan().IndexOfAny(search) >= 0);
        Assert.DoesNotContain(_logs.Lines, l => l.AsSpan().IndexOfAny(search) >= 0);
        Assert.NotEmpty(_logs.Lines); // the scan saw the gateway's own lines
    }

    [Fact]
    public async Task Handle_ConsentEvent_ChangesTheSubjectsState_TransfersNothing()
    {
        var generator = new SampleEventGenerator(3, _bed.Time);
        var consent = generator.Next(nameof(Contracts.ConsentChanged));

        var result = await Handler(_bed.Time).HandleAsync(Raw(consent), null, false, CancellationToken.None);

        Assert.IsType<IntakeResult.Accepted>(result);
        Assert.Empty(_bed.Ledger.Entries);
        Assert.Equal((1, 1), (Counters.Accepted, Counters.SubjectStateOnly));
        using var document = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(consent, consent.GetType(), EventJsonContext.Default));
        Assert.NotEmpty((await _bed.Subjects.ForAsync("school-003", _bed.Keys.Pseudonyms(document.RootElement), default)).Consents);
    }

    [Fact]
    public async Task Handle_TheSameEventAgain_OnceSettled_IsADuplicate_AndNothingIsDecidedOrSentAgain()
    {
        var handler = Handler(_bed.Time);
        var e = new SampleEventGenerator(7, _bed.Time).NextAbsenceReported();

        Assert.False(Assert.IsType<IntakeResult.Accepted>(await handler.HandleAsync(Raw(e), null, false, CancellationToken.None)).Duplicate);
        var entries = _bed.Ledger.Entries.Count;
        // Once as published, once wrapped by MassTransit: the same event either way.
        var raw = Raw(e);
        var envelope = new IntakeMessage(System.Text.Encoding.UTF8.GetBytes(new JsonObject
        {
            ["messageType"] = new JsonArray($"urn:message:IntegrationGateway.Contracts:{nameof(Contracts.AbsenceReported)}"),
            ["message"] = JsonNode.Parse(raw.Body.Span),
        }.ToJsonString()), IntakeReader.MassTransitContentType, null, "integration-gateway.intake", raw.UserId);
        var again = await handler.HandleAsync(raw, null, false, CancellationToken.None);
        var wrapped = await handler.HandleAsync(envelope, null, true, CancellationToken.None);

        Assert.True(Assert.IsType<IntakeResult.Accepted>(again).Duplicate);
        Assert.True(Assert.IsType<IntakeResult.Accepted>(wrapped).Duplicate);
        Assert.True(entries >= 2, $"the first copy was decided for its recipients ({entries} entries)");
        Assert.Equal(entries, _bed.Ledger.Entries.Count);
        Assert.Equal((3, 2), (Counters.Accepted, Counters.Duplicates));
    }

    [Fact]
    public async Task Handle_AReusedEventIdWithOtherContent_IsQuarantinedAsEventIdReused_AndNothingIsSent()
    {
        var handler = Handler(_bed.Time);
        var e = new SampleEventGenerator(8, _bed.Time).NextAbsenceReported();
        await handler.HandleAsync(Raw(e), null, false, CancellationToken.None);
        var entries = _bed.Ledger.Entries.Count;
        var changed = JsonNode.Parse(JsonSerializer.SerializeToUtf8Bytes(e, EventJsonContext.Default.AbsenceReported))!;
        changed["absence"]!["hours"] = (int)changed["absence"]!["hours"]! + 1;
        var message = Raw(e) with { Body = System.Text.Encoding.UTF8.GetBytes(changed.ToJsonString()) };

        var result = await handler.HandleAsync(message, null, false, CancellationToken.None);

        Assert.Equal($"eventId: {IntakeHandler.EventIdReused}", Assert.Single(Assert.IsType<IntakeResult.Quarantined>(result).Violations).ToString());
        Assert.Equal(entries, _bed.Ledger.Entries.Count);
        var alert = Assert.Single(_logs.Lines, l => l.Contains("ALERT", StringComparison.Ordinal));
        Assert.Contains(e.EventId.ToString(), alert, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handle_ABugOnTheWayToTheDecisions_IsTriedAgainThenQuarantinedAsProcessing()
    {
        var subjects = new FailingSubjects(new InvalidOperationException("a bug"));
        var handler = Handler(_bed.Time, subjects, retryLimit: 2);
        var e = new SampleEventGenerator(4, _bed.Time).NextAbsenceReported();

        var handling = handler.HandleAsync(Raw(e), null, false, CancellationToken.None);
        while (!handling.IsCompleted)
        {
            _bed.Time.Advance(TimeSpan.FromMilliseconds(100)); // the retries' backoff runs on the fake clock
            await Task.Yield();
        }

        var quarantined = Assert.IsType<IntakeResult.Quarantined>(await handling);
        Assert.Equal("$: processing", Assert.Single(quarantined.Violations).ToString());
        Assert.Equal(3, subjects.Calls); // the first try and two more
        Assert.Contains(_logs.Lines, l => l.Contains("processing failed on attempt 2", StringComparison.Ordinal));
        Assert.Empty(_bed.Ledger.Entries);
    }

    [Fact]
    public async Task Handle_TheDatabaseAway_KeepsTheMessage_WithoutRetryingInside()
    {
        var subjects = new FailingSubjects(new TimeoutException());

        var result = await Handler(_bed.Time, subjects).HandleAsync(Raw(new SampleEventGenerator(6, _bed.Time).NextAbsenceReported()), null, false, CancellationToken.None);

        Assert.Equal("TimeoutException", Assert.IsType<IntakeResult.Retry>(result).Problem);
        Assert.Equal(1, subjects.Calls);
        Assert.Equal(0, Counters.Accepted);
    }

    sealed class FailingSubjects(Exception failure) : ISubjectRegistry
    {
        public int Calls { get; private set; }

        public Task ApplyAsync(string controller, string eventType, JsonElement body, DateTimeOffset now, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<SubjectState> ForAsync(string controller, byte[][] pseudonyms, CancellationToken cancellationToken)
        {
            Calls++;
            throw failure;
        }
    }
}
