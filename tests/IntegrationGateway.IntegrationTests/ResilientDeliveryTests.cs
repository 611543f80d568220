using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.Adapters;
using IntegrationGateway.AgencySimulator;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IntegrationGateway.IntegrationTests;

/// <summary>
/// A recipient having a bad day, on real RabbitMQ, PostgreSQL and the simulator: down for a while, asking to be
/// left alone (429 Retry-After), failing until its circuit opens, gone for good (410). Every AbsenceReported goes
/// to DUO and to the compulsory-education officer; DUO misbehaves, the officer is the one that must not suffer.
/// </summary>
public sealed class ResilientDeliveryTests(ITestOutputHelper output)
{
    static Dictionary<string, string?> Fast(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>(TestServices.FastDelivery);
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    [Fact]
    public async Task RecipientDownFor30Seconds_GetsEveryTransferWhenBack_NoneLost_NoDuplicateEffects_OthersNotHeldUp()
    {
        const int count = 60;
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(Fast());
        var events = new SampleEventGenerator(501, TimeProvider.System).AbsenceReported(count);
        var down = Stopwatch.StartNew();
        bed.SimulatorBehaviour.Set("duo", new Misbehaviour(503, null, false, TimeSpan.Zero, TimeProvider.System.GetUtcNow().AddSeconds(30)));

        await bed.PublishAsync(events.Take(count / 2));
        var officerEarly = await bed.WaitForReceiptsAsync("leerplicht", count / 2, TimeSpan.FromSeconds(20));
        var officerFirstHalf = down.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(10));
        await bed.PublishAsync(events.Skip(count / 2)); // more arrive while DUO is still down
        var officer = await bed.WaitForReceiptsAsync("leerplicht", count, TimeSpan.FromSeconds(20));
        var duoDuringOutage = bed.Receipts.List("duo").Count;
        var duo = await bed.WaitForReceiptsAsync("duo", count, TimeSpan.FromSeconds(90));
        var back = down.Elapsed;
        var left = await bed.WaitForParkedAsync(0, TimeSpan.FromSeconds(10));

        output.WriteLine($"DUO down 30 s: failures served {bed.SimulatorBehaviour.FailuresFor("duo")}; officer had the first {officerEarly.Count} after {officerFirstHalf.TotalSeconds:0.0} s and all {officer.Count} during the outage; " +
                         $"DUO receipts during outage {duoDuringOutage}, all {duo.Count} after {back.TotalSeconds:0.0} s; parked left {left}; " +
                         $"duplicate deliveries {duo.Sum(r => r.Deliveries - 1)}; duplicate effects {bed.Receipts.DuplicateEffects("duo")}");
        Assert.Equal(count, officer.Count);
        Assert.True(officerFirstHalf < TimeSpan.FromSeconds(10), "the officer's deliveries waited for DUO");
        Assert.Equal(0, duoDuringOutage);
        Assert.Equal(events.Select(e => TransferKeys.Of(e.EventId, "duo-verzuimregister")).Order(), duo.Select(r => r.IdempotencyKey).Order());
        Assert.Equal(0, bed.Receipts.DuplicateEffects("duo"));
        Assert.Equal(0, left);
        Assert.Equal(0u, await bed.MessagesInQueueAsync(bed.QueueName));
    }

    [Fact]
    public async Task ResetConnections_AreRetried_AndDeliveredOnce()
    {
        const int count = 5;
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(Fast());
        var events = new SampleEventGenerator(506, TimeProvider.System).AbsenceReported(count);
        bed.SimulatorBehaviour.Set("duo", new Misbehaviour(null, null, ResetConnection: true, TimeSpan.Zero, null, Times: count));

        await bed.PublishAsync(events);
        var duo = await bed.WaitForReceiptsAsync("duo", count, TimeSpan.FromSeconds(30));

        output.WriteLine($"connections reset {bed.SimulatorBehaviour.FailuresFor("duo")}; delivered {duo.Count}; deliveries {duo.Sum(r => r.Deliveries)}");
        Assert.Equal(count, bed.SimulatorBehaviour.FailuresFor("duo"));
        Assert.Equal(count, duo.Count);
        Assert.All(duo, r => Assert.Equal(1, r.Deliveries));
    }

    [Fact]
    public async Task DatabaseAwayWhileTransfersMustBeParked_MessagesAreKept_AndParkedWhenItIsBack()
    {
        const int count = 5;
        await using var bed = await TestBed.StartAsync();
        var database = new Npgsql.NpgsqlConnectionStringBuilder(TestServices.DatabaseConnectionString);
        await using var proxy = new TcpProxy(database.Host!, database.Port);
        database.Port = proxy.Port;
        database.Pooling = false; // every command opens through the proxy, so a cut is felt at once
        await using var gateway = await bed.StartGatewayInProcessAsync(Fast(("ConnectionStrings:Gateway", database.ConnectionString)));
        var events = new SampleEventGenerator(507, TimeProvider.System).AbsenceReported(count);
        bed.SimulatorBehaviour.Set("duo", new Misbehaviour(503, null, false, TimeSpan.Zero, null));

        proxy.Cut();
        await bed.PublishAsync(events);
        await Task.Delay(TimeSpan.FromSeconds(8)); // DUO fails, and its transfers cannot be parked: nothing may be acked
        var officerDuringOutage = bed.Receipts.List("leerplicht").Count;
        var parkedDuringOutage = await bed.WaitForParkedAsync(0, TimeSpan.Zero);
        var quarantinedDuringOutage = await bed.MessagesInQueueAsync(bed.QuarantineQueue);

        proxy.Restore();
        var parked = await bed.WaitForParkedAsync(count, TimeSpan.FromSeconds(60));
        bed.SimulatorBehaviour.Clear("duo");
        var duo = await bed.WaitForReceiptsAsync("duo", count, TimeSpan.FromSeconds(60));

        output.WriteLine($"database cut for 8 s: officer received {officerDuringOutage} (sent again later: idempotent), parked during the outage {parkedDuringOutage}, quarantined {quarantinedDuringOutage}; " +
                         $"parked once it was back {parked}; DUO received all {duo.Count} when it recovered");
        Assert.Equal(0, parkedDuringOutage);
        Assert.Equal(0u, quarantinedDuringOutage);
        Assert.Equal(count, parked);
        Assert.Equal(events.Select(e => TransferKeys.Of(e.EventId, "duo-verzuimregister")).Order(), duo.Select(r => r.IdempotencyKey).Order());
        Assert.Equal(0, bed.Receipts.DuplicateEffects("leerplicht"));
        Assert.Equal(0u, await bed.MessagesInQueueAsync(bed.QueueName));
    }

    [Fact]
    public async Task TooManyRequestsWithRetryAfter5_IsWaitedFor()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(Fast());
        var e = new SampleEventGenerator(502, TimeProvider.System).NextAbsenceReported();
        bed.SimulatorBehaviour.Set("duo", new Misbehaviour(429, 5, false, TimeSpan.Zero, null, Times: 1));

        await bed.PublishAsync([e]);
        var receipt = Assert.Single(await bed.WaitForReceiptsAsync("duo", 1, TimeSpan.FromSeconds(30)));
        var refused = Assert.Single(bed.SimulatorBehaviour.FailureTimesFor("duo"));
        var waited = receipt.FirstReceivedAt - refused;

        output.WriteLine($"429 with Retry-After: 5 at {refused:HH:mm:ss.fff}; delivered at {receipt.FirstReceivedAt:HH:mm:ss.fff}; waited {waited.TotalSeconds:0.000} s");
        // 5 s as asked, give or take the timers' granularity (a few milliseconds); the backoff otherwise is 50 ms.
        Assert.InRange(waited, TimeSpan.FromSeconds(4.95), TimeSpan.FromSeconds(7));
        Assert.Equal(1, receipt.Deliveries);
    }

    [Fact]
    [Trait("Tier", "Security")]
    public async Task AnAnswerOverTheLimit_IsNotReadPastIt_TheAcceptedTransferStandsWithoutItsReceipt()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(Fast());
        var e = new SampleEventGenerator(503, TimeProvider.System).NextAbsenceReported();
        bed.SimulatorBehaviour.Set("duo", new Misbehaviour(null, null, false, TimeSpan.Zero, null, ReceiptPadding: 4 * BodyWithinAttemptHandler.MaxResponseBytes));

        await bed.PublishAsync([e]);
        var receipt = Assert.Single(await bed.WaitForReceiptsAsync("duo", 1, TimeSpan.FromSeconds(30)));
        await bed.WaitForReceiptsAsync("leerplicht", 1, TimeSpan.FromSeconds(30));
        await bed.WaitForTakenAsync(1);

        var decision = await LedgerDecision.OfAsync(e.EventId, "duo");
        output.WriteLine($"a 4 MiB answer: ledger {decision.Outcome}, status {decision.StatusCode}, receipt {decision.Receipt ?? "none"}; deliveries {receipt.Deliveries}");
        Assert.Equal(("delivered", (int?)201), (decision.Outcome, decision.StatusCode));
        Assert.True(decision.Receipt is null, "the receipt past the limit is not read");
        Assert.Equal(1, receipt.Deliveries); // accepted once, not retried
        Assert.Equal(0, await bed.WaitForParkedAsync(0, TimeSpan.FromSeconds(5)));
        output.WriteLine("attack: a recipient answering with 4 MiB: refused (not read past 1 MiB)");
    }

    [Fact]
    public async Task CircuitOpensAfterTheThreshold_NoMoreCallsWhileOpen_TheOtherRecipientGoesOnAtNormalPace()
    {
        const int count = 60;
        await using var bed = await TestBed.StartAsync();
        // A short window: the baseline's successes leave it within 2 s, and the failures alone then decide.
        await using var gateway = await bed.StartGatewayInProcessAsync(Fast(
            ("Delivery:CircuitMinimumThroughput", "4"), ("Delivery:CircuitSamplingDuration", "00:00:02"), ("Delivery:CircuitBreakDuration", "00:01:00")));
        var resilience = gateway.Services.GetRequiredService<RecipientResilience>();
        var generator = new SampleEventGenerator(503, TimeProvider.System);

        // Baseline: the officer's pace with every recipient well.
        var clock = Stopwatch.StartNew();
        await bed.PublishAsync(generator.AbsenceReported(count));
        await bed.WaitForReceiptsAsync("leerplicht", count, TimeSpan.FromSeconds(60));
        var baseline = clock.Elapsed;

        // DUO starts failing. Once it failed twice running the bulkhead lets one probe at a time through and parks the
        // rest untried, so the calls are few: events keep coming until those probes open the circuit.
        bed.SimulatorBehaviour.Set("duo", new Misbehaviour(503, null, false, TimeSpan.Zero, null));
        var failing = 0;
        while (resilience.CircuitOf("duo") != Polly.CircuitBreaker.CircuitState.Open)
        {
            Assert.True(failing < 50 * count, $"DUO's circuit did not open after {failing} transfers failed or were parked");
            await bed.PublishAsync(generator.AbsenceReported(10));
            failing += 10;
            await bed.WaitForReceiptsAsync("leerplicht", count + failing, TimeSpan.FromSeconds(60));
        }

        var callsBeforeOpen = bed.SimulatorBehaviour.FailuresFor("duo");
        var circuit = resilience.CircuitOf("duo");

        // While it is open, DUO is not called at all, and the officer goes on at the baseline pace.
        clock.Restart();
        await bed.PublishAsync(generator.AbsenceReported(count));
        await bed.WaitForReceiptsAsync("leerplicht", 2 * count + failing, TimeSpan.FromSeconds(60));
        var whileOpen = clock.Elapsed;
        var parked = await bed.WaitForParkedAsync(count + failing, TimeSpan.FromSeconds(30));
        var callsWhileOpen = bed.SimulatorBehaviour.FailuresFor("duo") - callsBeforeOpen;

        output.WriteLine($"officer: {count} events in {baseline.TotalSeconds:0.00} s with DUO well, {whileOpen.TotalSeconds:0.00} s with DUO's circuit open; " +
                         $"DUO calls until the circuit opened {callsBeforeOpen} for {failing} transfers ({failing * 3} attempts without bulkhead or circuit); " +
                         $"calls while open {callsWhileOpen} for {count} more transfers; circuit {circuit}; parked {parked}");
        using var http = await OpsSignIn.ClientAsync(new Uri(gateway.Urls.First()), "operator");
        var summary = await http.GetFromJsonAsync<JsonObject>("/ops/summary");
        var duoSummary = summary!["recipients"]!.AsArray().Single(r => r!["recipient"]!.GetValue<string>() == "duo")!;
        output.WriteLine($"ops summary for duo: {duoSummary.ToJsonString()}");

        Assert.Equal(Polly.CircuitBreaker.CircuitState.Open, circuit);
        Assert.Equal("Open", duoSummary["circuit"]!.GetValue<string>());
        Assert.Equal(count + failing, duoSummary["waitingNow"]!["waiting"]!.GetValue<long>());
        Assert.True(callsBeforeOpen < failing, $"the bulkhead never parked a transfer untried: {callsBeforeOpen} calls for {failing} transfers");
        Assert.Equal(0, callsWhileOpen);
        Assert.Equal(count + failing, parked);
        Assert.True(whileOpen < (baseline * 2) + TimeSpan.FromSeconds(1), $"the officer slowed down: {whileOpen} against {baseline}");
    }

    [Fact]
    public async Task Gone410_StopsDeliveriesToThatRecipientOnly_AndHoldsItsTransfersUntilEnabled()
    {
        const int count = 10;
        await using var bed = await TestBed.StartAsync();
        var logs = new CapturedLogs();
        await using var gateway = await bed.StartGatewayInProcessAsync(Fast(), builder => builder.Logging.AddProvider(logs));
        var events = new SampleEventGenerator(505, TimeProvider.System).AbsenceReported(count);
        bed.SimulatorBehaviour.Set("duo", new Misbehaviour(410, null, false, TimeSpan.Zero, null));

        // The first transfer meets the 410; those that come after it are not sent there.
        await bed.PublishAsync(events.Take(1));
        await bed.WaitForParkedAsync(1, TimeSpan.FromSeconds(30));
        await bed.PublishAsync(events.Skip(1));
        var officer = await bed.WaitForReceiptsAsync("leerplicht", count, TimeSpan.FromSeconds(30));
        var held = await bed.WaitForParkedAsync(count, TimeSpan.FromSeconds(30));
        var calls = bed.SimulatorBehaviour.FailuresFor("duo");

        output.WriteLine($"410 from DUO: calls {calls}; held {held}; officer received {officer.Count}; alert logged {logs.Lines.Count(l => l.StartsWith("Critical", StringComparison.Ordinal))}");
        Assert.Equal(1, calls); // after the 410 nothing more is sent there
        Assert.Equal(count, officer.Count);
        Assert.Equal(count, held);
        Assert.Contains(logs.Lines, l => l.StartsWith("Critical", StringComparison.Ordinal) && l.Contains("route to duo is disabled", StringComparison.Ordinal));

        // The agency is back under a new address, and an operator enables the route: the held transfers go.
        bed.SimulatorBehaviour.Clear("duo");
        var (exit, stdout, stderr) = await GatewayCommandLine.RunAsync(["recipients", "enable", "duo", .. GatewayCommandLine.DatabaseSettings]);
        var duo = await bed.WaitForReceiptsAsync("duo", count, TimeSpan.FromSeconds(30));
        output.WriteLine(stdout + stderr);
        Assert.Equal(0, exit);
        Assert.Equal(count, duo.Count);
    }
}
