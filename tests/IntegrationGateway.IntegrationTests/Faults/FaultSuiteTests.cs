using System.Diagnostics;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests.Faults;

/// <summary>
/// The fault tier: each scenario publishes N fresh events (<see cref="FaultRun.Count"/>), injects its fault while the
/// gateway drains them, recovers, and checks per event that nothing was lost, nothing took effect twice, one decision
/// was recorded per event and agreement, and the ledger verifies. CI runs a small N; <c>deploy/local/faults.sh</c>
/// the full form, into <c>artifacts/faults/report.md</c>.
/// </summary>
[Trait("Tier", "Fault")]
public sealed class FaultSuiteTests(ITestOutputHelper output)
{
    static readonly TimeSpan DrainTimeout = FaultRun.DrainTimeout;

    [Fact]
    public Task GatewayKilled_Minus9_MidDrain() => KilledOrStoppedAsync("gateway-kill-9", hard: true);

    [Fact]
    public Task GatewayStopped_Sigterm_MidDrain() => KilledOrStoppedAsync("gateway-sigterm", hard: false);

    async Task KilledOrStoppedAsync(string scenario, bool hard)
    {
        await using var run = await FaultRun.StartAsync(scenario);
        var first = await run.StartGatewayAsync();
        var publishing = run.PublishAsync(run.Events);
        await run.WaitForShareAsync(0.2);
        var at = run.Receipts().Count;
        if (hard)
        {
            first.KillHard();
        }
        else
        {
            first.Terminate();
        }

        var exit = await first.WaitForExitAsync(TimeSpan.FromSeconds(60));
        await publishing;
        var recovery = Stopwatch.StartNew();
        await run.StartGatewayAsync();
        await run.DrainAndCheckAsync(recovery, output, $"{(hard ? "killed" : "stopped")} at {at:N0} receipts; exit {exit}");
        if (!hard)
        {
            Assert.Equal(0, exit);
        }
    }

    [Fact]
    public async Task RabbitMqNodeRestarted_MidDrain()
    {
        await using var run = await FaultRun.StartAsync("rabbitmq-restart");
        await run.StartGatewayAsync();
        await run.PublishAsync(run.Events);
        await run.WaitForShareAsync(0.2);
        var down = Stopwatch.StartNew();
        await FaultScript.InjectAsync("rabbitmq-stop");
        await FaultScript.InjectAsync("rabbitmq-start");
        var outage = down.Elapsed;
        var recovery = Stopwatch.StartNew();
        await run.DrainAndCheckAsync(recovery, output, $"node down and up again in {outage.TotalSeconds:0} s");
    }

    /// <summary>Also the quiet-logs check: an 11 s outage of the database writes fewer than 20 lines at warning or above.</summary>
    [Fact]
    public async Task PostgreSqlRestarted_For11s_MidDrain_WritesFewerThan20WarningLines()
    {
        await using var run = await FaultRun.StartAsync("postgres-restart");
        var gateway = await run.StartGatewayAsync();
        await run.PublishAsync(run.Events);
        await run.WaitForShareAsync(0.2);
        var before = gateway.Output.Length;
        var down = Stopwatch.StartNew();
        await FaultScript.InjectAsync("postgres-stop");
        // The outage itself is the fault: 11 s, then the database starts again.
        var left = TimeSpan.FromSeconds(11) - down.Elapsed;
        await Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        await FaultScript.InjectAsync("postgres-start");
        var outage = down.Elapsed;
        var recovery = Stopwatch.StartNew();
        var recovered = await run.WaitForDrainAsync(recovery, DrainTimeout);
        var lines = gateway.Output[before..].Split('\n');
        var loud = lines.Where(l => l.StartsWith("warn:", StringComparison.Ordinal) || l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal)).ToList();
        output.WriteLine($"{loud.Count} log entries at warning or above from the outage to the drain ({lines.Length} lines in all):");
        foreach (var group in loud.GroupBy(l => l).OrderByDescending(g => g.Count()))
        {
            output.WriteLine($"  {group.Count()} × {group.Key}");
        }

        output.WriteLine((await run.CheckAsync(recovered, $"down {outage.TotalSeconds:0.0} s; {loud.Count} log entries at warning or above")).ToString());
        Assert.True(loud.Count < 20, $"{loud.Count} log entries at warning or above for an outage of {outage.TotalSeconds:0} s");
    }

    /// <summary>Also the bulkhead's measure: DUO's delivery rate while the other recipient fails, against its rate before.</summary>
    [Fact]
    public async Task ARecipientAnswers503_For30s_MidDrain_TheOtherKeepsItsRate()
    {
        await using var run = await FaultRun.StartAsync("recipient-503");
        await RecipientMisbehavesAsync(run, new AgencySimulator.Misbehaviour(503, null, false, TimeSpan.Zero, null));
    }

    [Fact]
    public async Task ARecipientTooSlow_TimesOut_For30s_MidDrain()
    {
        await using var run = await FaultRun.StartAsync("recipient-slow");
        // Slower than the attempt's timeout (10 s): every attempt to it times out.
        await RecipientMisbehavesAsync(run, new AgencySimulator.Misbehaviour(null, null, false, TimeSpan.FromSeconds(12), null));
    }

    async Task RecipientMisbehavesAsync(FaultRun run, AgencySimulator.Misbehaviour misbehaviour)
    {
        // A queue filled first (the gateway started once for its topology, then stopped), so the rates compare a
        // drain with a drain, publishers not competing for the cores.
        var once = await run.StartGatewayAsync();
        once.Terminate();
        await once.WaitForExitAsync(TimeSpan.FromSeconds(60));
        var publishing = run.PublishAsync(run.Events);
        await publishing;
        await run.StartGatewayAsync();
        await run.WaitForShareAsync(0.2);
        var started = TimeProvider.System.GetUtcNow();
        run.Bed.SimulatorBehaviour.Set("leerplicht", misbehaviour with { Until = started + FaultRun.FaultLength });
        await TestBed.WaitUntilAsync("the fault's end", () => TimeProvider.System.GetUtcNow() >= started + FaultRun.FaultLength, FaultRun.FaultLength + TimeSpan.FromSeconds(5));
        var ended = TimeProvider.System.GetUtcNow();
        await publishing;
        var recovery = Stopwatch.StartNew();
        var recovered = await run.WaitForDrainAsync(recovery, DrainTimeout);

        // DUO's rate in the 5 s before the fault, and while it lasted (up to DUO's last receipt, if it finished first).
        var duo = run.Receipts().Where(r => r.Recipient == "duo").Select(r => r.FirstReceivedAt).Order().ToList();
        // The 5 s before the fault, or since DUO's first receipt if the drain began later.
        var from = new[] { started - TimeSpan.FromSeconds(5), duo[0] }.Max();
        var rateBefore = duo.Count(t => t >= from && t < started) / (started - from).TotalSeconds;
        var duringEnd = new[] { ended, duo[^1] }.Min();
        var rateDuring = duringEnd > started ? duo.Count(t => t >= started && t <= duringEnd) / (duringEnd - started).TotalSeconds : double.NaN;
        var note = $"leerplicht {(misbehaviour.Status is { } s ? s.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{misbehaviour.Latency.TotalSeconds:0} s slow")} for {FaultRun.FaultLength.TotalSeconds:0} s; " +
                   $"DUO {rateBefore:0} transfers/s before (over {(started - from).TotalSeconds:0.0} s), {rateDuring:0}/s during ({rateDuring / rateBefore:P0}; over {(duringEnd - started).TotalSeconds:0.0} s)";
        output.WriteLine((await run.CheckAsync(recovered, note)).ToString());
        if (FaultRun.Full && misbehaviour.Status is not null)
        {
            // The bulkhead's promise, held to in the full form (the smoke set is too short to measure a rate).
            Assert.True(rateDuring >= 0.8 * rateBefore, note);
        }
    }

    [Fact]
    public async Task ARecipientAnswers410_ItsRouteIsDisabled_ThenEnabled()
    {
        await using var run = await FaultRun.StartAsync("recipient-410");
        await run.StartGatewayAsync();
        var publishing = run.PublishAsync(run.Events);
        await run.WaitForShareAsync(0.2);
        var started = TimeProvider.System.GetUtcNow();
        run.Bed.SimulatorBehaviour.Set("leerplicht", new AgencySimulator.Misbehaviour(410, null, false, TimeSpan.Zero, started + FaultRun.FaultLength));
        await TestBed.WaitUntilAsync("the fault's end", () => TimeProvider.System.GetUtcNow() >= started + FaultRun.FaultLength, FaultRun.FaultLength + TimeSpan.FromSeconds(5));
        await publishing;
        // An operator has talked to the agency: the route is enabled again, and what was held goes out.
        var enable = await GatewayCommandLine.RunAsync(["recipients", "enable", "leerplicht", .. GatewayCommandLine.DatabaseSettings]);
        Assert.True(enable.Exit == 0, enable.Out + enable.Err);
        var recovery = Stopwatch.StartNew();
        await run.DrainAndCheckAsync(recovery, output, $"leerplicht 410 for {FaultRun.FaultLength.TotalSeconds:0} s, then 'recipients enable leerplicht'");
    }

    [Fact]
    public async Task GatewayKilled_Minus9_WhileTransfersAreParked()
    {
        await using var run = await FaultRun.StartAsync("kill-9-parked");
        run.Bed.SimulatorBehaviour.Set("leerplicht", new AgencySimulator.Misbehaviour(503, null, false, TimeSpan.Zero, null));
        var first = await run.StartGatewayAsync();
        await run.PublishAsync(run.Events);
        await TestBed.WaitUntilAsync("every leerplicht transfer parked", () => run.ParkedAsync().Result == run.Events.Count && run.Receipts().Count == run.Events.Count, DrainTimeout);
        first.KillHard();
        await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        run.Bed.SimulatorBehaviour.Clear("leerplicht");
        var recovery = Stopwatch.StartNew();
        await run.StartGatewayAsync();
        await run.DrainAndCheckAsync(recovery, output, $"killed with {run.Events.Count:N0} transfers parked");
    }

    [Fact]
    public async Task GatewayKilled_Minus9_WhileTheSchedulerDeliversParkedTransfers()
    {
        await using var run = await FaultRun.StartAsync("kill-9-scheduler");
        // No circuit: the scheduler's calls reach the slow agency and are in flight, under their lease, at the kill.
        run.Settings["Delivery:CircuitMinimumThroughput"] = "1000";
        run.Bed.SimulatorBehaviour.Set("leerplicht", new AgencySimulator.Misbehaviour(503, null, false, TimeSpan.Zero, null));
        var first = await run.StartGatewayAsync();
        await run.PublishAsync(run.Events);
        await TestBed.WaitUntilAsync("every leerplicht transfer parked", () => run.ParkedAsync().Result == run.Events.Count && run.Receipts().Count == run.Events.Count, DrainTimeout);
        run.Bed.SimulatorBehaviour.Set("leerplicht", new AgencySimulator.Misbehaviour(null, null, false, TimeSpan.FromSeconds(2), null));
        IReadOnlyList<string> leased = [];
        await TestBed.WaitUntilAsync("parked transfers under the scheduler's lease", () => (leased = LeasedAsync().Result).Count > 0, TimeSpan.FromSeconds(60));
        first.KillHard();
        await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        run.Bed.SimulatorBehaviour.Clear("leerplicht");
        var recovery = Stopwatch.StartNew();
        await run.StartGatewayAsync();
        // The leased ones first: taken over at the next gateway's first round, not after the 2-minute lease.
        await TestBed.WaitUntilAsync("the leased transfers delivered", () => leased.All(run.Receipts().Select(r => r.IdempotencyKey).ToHashSet().Contains), DrainTimeout);
        var leasedDelivered = recovery.Elapsed;
        await run.DrainAndCheckAsync(recovery, output, $"killed with {leased.Count} transfers leased by the scheduler (lease 2 min); those delivered {leasedDelivered.TotalSeconds:0.0} s after the restart");
        Assert.True(leasedDelivered < TimeSpan.FromSeconds(60), $"the leased transfers took {leasedDelivered.TotalSeconds:0} s: the lease was waited out");
    }

    static async Task<IReadOnlyList<string>> LeasedAsync()
    {
        await using var database = Npgsql.NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand("SELECT idempotency_key FROM parked_transfer WHERE lease_id IS NOT NULL");
        var keys = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    [Fact]
    public async Task TheSameEventsPublishedTwice()
    {
        await using var run = await FaultRun.StartAsync("published-twice");
        await run.StartGatewayAsync();
        await run.PublishAsync(run.Events);
        await run.WaitForDrainAsync(Stopwatch.StartNew(), DrainTimeout);
        var deliveries = run.Receipts().Sum(r => r.Deliveries);

        var again = Stopwatch.StartNew();
        await run.PublishAsync(run.Events);
        await TestBed.WaitUntilAsync("the second copies settled", () => FaultRun.QueueSettledAsync(run.Bed.QueueName).Result, DrainTimeout);
        var recovered = again.Elapsed;
        var after = run.Receipts().Sum(r => r.Deliveries);
        output.WriteLine((await run.CheckAsync(recovered, $"second copies: {after - deliveries} deliveries (acknowledged as duplicates)")).ToString());
        Assert.Equal(deliveries, after);
    }

    [Fact]
    public async Task AReusedEventIdWithChangedContent()
    {
        await using var run = await FaultRun.StartAsync("reused-id");
        await run.StartGatewayAsync();
        await run.PublishAsync(run.Events);
        await run.WaitForDrainAsync(Stopwatch.StartNew(), DrainTimeout);
        var deliveries = run.Receipts().Sum(r => r.Deliveries);

        var reused = run.Events.Take(Math.Max(1, run.Events.Count / 10)).Select(FaultRun.Changed).ToList();
        var again = Stopwatch.StartNew();
        await run.PublishAsync(reused);
        await TestBed.WaitUntilAsync("the changed copies quarantined", () => run.Bed.MessagesInQueueAsync(run.Bed.QuarantineQueue).Result >= reused.Count && FaultRun.QueueSettledAsync(run.Bed.QueueName).Result, DrainTimeout);
        var recovered = again.Elapsed;
        var after = run.Receipts().Sum(r => r.Deliveries);
        output.WriteLine((await run.CheckAsync(recovered, $"{reused.Count:N0} ids reused with other hours: quarantined as event-id-reused, {after - deliveries} deliveries", quarantinedExpected: reused.Count)).ToString());
        Assert.Equal(deliveries, after);
        var rules = (await run.Bed.DrainAsync(run.Bed.QuarantineQueue)).Select(m => m.Headers[Gateway.Intake.Quarantine.RuleHeader]).Distinct().ToList();
        Assert.Equal([Gateway.Intake.IntakeHandler.EventIdReused], rules);
    }

    [Fact]
    public async Task TheBrokersDiskAlarm_BlocksPublishers_ThenReleasesThem()
    {
        await using var run = await FaultRun.StartAsync("broker-disk-alarm");
        await run.StartGatewayAsync();
        var half = run.Events.Count / 2;
        await run.PublishAsync(run.Events.Take(half));
        await run.WaitForShareAsync(0.1);
        // fault.sh returns once the broker reports the alarm.
        await FaultScript.InjectAsync("disk-alarm", "on");
        var alarm = Stopwatch.StartNew();
        // Publishers are blocked while it lasts; the gateway keeps consuming what is queued.
        var publishing = run.PublishAsync(run.Events.Skip(half));
        long atAlarm, beforeRelease, receiptsAtAlarm, receiptsBeforeRelease;
        try
        {
            atAlarm = run.Published;
            receiptsAtAlarm = run.Receipts().Count;
            await Task.Delay(FaultRun.FaultLength / 2); // the fault's length: the alarm stays on this long
            beforeRelease = run.Published;
            receiptsBeforeRelease = run.Receipts().Count;
        }
        finally
        {
            await FaultScript.InjectAsync("disk-alarm", "off");
        }

        var blockedFor = alarm.Elapsed;
        var recovery = Stopwatch.StartNew();
        await publishing;
        await run.DrainAndCheckAsync(recovery, output, $"disk alarm for {blockedFor.TotalSeconds:0} s with half the events still to publish: {beforeRelease - atAlarm} published meanwhile, {receiptsBeforeRelease - receiptsAtAlarm} transfers received meanwhile");
        // Blocked means blocked: at most the few publishes already on the wire when it went off.
        Assert.True(beforeRelease - atAlarm <= 8, $"{beforeRelease - atAlarm} messages were published during the alarm");
    }
}
