using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests.Faults;

/// <summary>
/// One fault scenario end to end: N fresh <c>AbsenceReported</c> events (each routed to DUO and the compulsory-education
/// officer) published to a gateway running as its own process against the real broker, database and the agency
/// simulator; the fault injected mid-drain; then, per event, what happened (<see cref="FaultRow"/>). How many events:
/// <c>IG_FAULT_EVENTS</c> (CI's small default; <c>deploy/local/faults.sh</c> runs 10,000).
/// </summary>
internal sealed class FaultRun : IAsyncDisposable
{
    /// <summary>The recipients every event goes to, under its two agreements.</summary>
    public static readonly string[] Recipients = ["duo", "leerplicht"];

    readonly List<GatewayProcess> _gateways = [];

    FaultRun(string scenario, TestBed bed, Dictionary<string, string?> settings, IReadOnlyList<AbsenceReported> events)
    {
        Scenario = scenario;
        Bed = bed;
        Settings = settings;
        Events = events;
    }

    /// <summary>Events per scenario: <c>IG_FAULT_EVENTS</c>, or 200 (CI's smoke set).</summary>
    public static int Count { get; } = int.TryParse(Environment.GetEnvironmentVariable("IG_FAULT_EVENTS"), out var n) && n > 0 ? n : 200;

    /// <summary>The full form (thousands of events): faults last as the issue states them, not shortened for CI.</summary>
    public static bool Full => Count >= 2000;

    /// <summary>How long a timed fault lasts: 30 s in the full form, 4 s in the smoke set.</summary>
    public static TimeSpan FaultLength => Full ? TimeSpan.FromSeconds(30) : TimeSpan.FromSeconds(4);

    /// <summary>How long a drain may take before the scenario fails saying what is missing.</summary>
    public static TimeSpan DrainTimeout => TimeSpan.FromMinutes(Full ? 10 : 3);

    public string Scenario { get; }

    public TestBed Bed { get; }

    public Dictionary<string, string?> Settings { get; }

    public IReadOnlyList<AbsenceReported> Events { get; }

    public int Expected => Events.Count * Recipients.Length;

    public GatewayProcess Gateway => _gateways[^1];

    /// <summary>
    /// A test bed, the gateway's settings (shipped delivery settings, a shorter first parked retry) and N fresh events:
    /// <see cref="Count"/>, or <paramref name="count"/> for a run of its own size (then with no added latency).
    /// </summary>
    public static async Task<FaultRun> StartAsync(string scenario, int? count = null)
    {
        var bed = await TestBed.StartAsync();
        var settings = bed.GatewaySettings();
        // Shipped settings, except that a parked transfer is first retried after 2 s (30 s shipped) and the scheduler
        // looks every second (5 s shipped), so recovery is measured in seconds. The lease is the shipped 2 minutes.
        settings["Delivery:ParkedRetryBaseDelay"] = "00:00:02";
        settings["Delivery:ParkedRetryMaxDelay"] = "00:00:10";
        settings["Delivery:SchedulerInterval"] = "00:00:01";
        // A fresh seed each run: new event ids, as a measurement needs.
        var events = new SampleEventGenerator(Random.Shared.Next(), TimeProvider.System).AbsenceReported(count ?? Count);
        if (!Full && count is null)
        {
            // The smoke set is small; a little latency keeps it draining long enough for the fault to land mid-drain,
            // and a shorter circuit break keeps its recovery short.
            bed.SimulatorBehaviour.Latency = TimeSpan.FromMilliseconds(40);
            settings["Delivery:CircuitBreakDuration"] = "00:00:05";
        }

        return new FaultRun(scenario, bed, settings, events);
    }

    /// <summary>Starts one more gateway process on the run's settings, with an HTTP port of its own (replicas run side by side).</summary>
    public async Task<GatewayProcess> StartGatewayAsync()
    {
        var gateway = Bed.StartGatewayProcess(new Dictionary<string, string?>(Settings) { ["Urls"] = $"http://127.0.0.1:{TestServices.FreePort()}" });
        _gateways.Add(gateway);
        await gateway.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        return gateway;
    }

    public static byte[] Json(AbsenceReported e) => JsonSerializer.SerializeToUtf8Bytes(e, EventJsonContext.Default.AbsenceReported);

    /// <summary>Publishes raw JSON with confirms, four publishers side by side, as the school's system.</summary>
    public async Task PublishAsync(IEnumerable<AbsenceReported> events) => await PublishAsync(events.Select(e => (e.EventId, Json(e))));

    long _published;

    /// <summary>Messages published and confirmed so far.</summary>
    public long Published => Interlocked.Read(ref _published);

    public async Task PublishAsync(IEnumerable<(Guid Id, byte[] Json)> messages)
    {
        var all = messages.ToList();
        await Task.WhenAll(all.Chunk(Math.Max(1, (all.Count + 3) / 4)).Select(async chunk =>
        {
            await using var publisher = await Bed.ConnectIntakePublisherAsync();
            foreach (var (id, json) in chunk)
            {
                await publisher.PublishAsync(nameof(AbsenceReported), json, id);
                Interlocked.Increment(ref _published);
            }
        }));
    }

    /// <summary>The simulator's receipts of this run's events.</summary>
    public IReadOnlyList<AgencySimulator.Receipt> Receipts()
    {
        return Bed.Receipts.List(null).Of(Events.Select(e => e.EventId));
    }

    /// <summary>Waits until this share of the run's transfers has a receipt: the moment "mid-drain".</summary>
    public Task WaitForShareAsync(double share, TimeSpan? timeout = null) =>
        TestBed.WaitUntilAsync($"{share:P0} of {Expected} transfers received", () => Receipts().Count >= share * Expected, timeout ?? TimeSpan.FromMinutes(5));

    /// <summary>
    /// Waits until everything is settled: every transfer received, nothing parked, the intake queue empty with nothing
    /// unacknowledged. Returns how long it took from <paramref name="since"/>; throws with what is missing on timeout.
    /// </summary>
    public async Task<TimeSpan> WaitForDrainAsync(Stopwatch since, TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var receipts = Receipts().Count;
            var parked = receipts >= Expected ? await ParkedAsync() : -1;
            if (receipts >= Expected && parked == 0 && await QueueSettledAsync(Bed.QueueName))
            {
                return since.Elapsed;
            }

            if (waited.Elapsed > timeout)
            {
                throw new TimeoutException($"{Scenario}: not drained after {timeout.TotalSeconds:0} s: {receipts} of {Expected} transfers received, {parked} parked");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Whether a queue has nothing ready and nothing unacknowledged (the broker's own count, via fault.sh).</summary>
    public static async Task<bool> QueueSettledAsync(string queue)
    {
        var (exit, output) = await FaultScript.RunAsync("queue-depth", queue);
        return exit == 0 && output.Trim() == "0 0";
    }

    public async Task<long> ParkedAsync()
    {
        await using var database = Npgsql.NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand("SELECT count(*) FROM parked_transfer WHERE event_id = ANY($1)");
        command.Parameters.Add(new() { Value = Events.Select(e => e.EventId).ToArray() });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Waits for the drain from <paramref name="recovery"/> on, then checks and reports the row (also to the test's output).</summary>
    public async Task<FaultRow> DrainAndCheckAsync(Stopwatch recovery, ITestOutputHelper output, string note, long quarantinedExpected = 0)
    {
        // A minute per 2,000 events, at least the tier's own timeout: a run of its own size (the drain test) gets its time.
        var timeout = TimeSpan.FromMinutes(Math.Max(DrainTimeout.TotalMinutes, Events.Count / 2000.0));
        var recovered = await WaitForDrainAsync(recovery, timeout);
        var row = await CheckAsync(recovered, note, quarantinedExpected);
        output.WriteLine(row.ToString());
        return row;
    }

    /// <summary>Per event, what happened; written to the report, then held to: nothing lost, nothing done twice, the ledger whole.</summary>
    public async Task<FaultRow> CheckAsync(TimeSpan recovered, string note = "", long quarantinedExpected = 0)
    {
        await using var database = Npgsql.NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand(
            "SELECT count(*) FILTER (WHERE kind = 'decision'), count(DISTINCT (event_id, agreement_id)) FILTER (WHERE kind = 'decision') FROM ledger_entry WHERE event_id = ANY($1)");
        command.Parameters.Add(new() { Value = Events.Select(e => e.EventId).ToArray() });
        long decisions, distinctDecisions;
        await using (var reader = await command.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            (decisions, distinctDecisions) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        // Every event marked settled in the intake's memory (with its ledger entries): a republish is a duplicate.
        await using var unsettled = database.CreateCommand("SELECT count(*) FILTER (WHERE settled_at IS NULL), count(*) FROM intake_event WHERE event_id = ANY($1)");
        unsettled.Parameters.Add(new() { Value = Events.Select(e => e.EventId).ToArray() });
        long notSettled, seen;
        await using (var reader = await unsettled.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            (notSettled, seen) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        var receipts = Receipts();
        var received = receipts.Select(r => (r.Recipient, r.IdempotencyKey[..r.IdempotencyKey.IndexOf(':', StringComparison.Ordinal)])).ToHashSet();
        var lost = Events.Count(e => Recipients.Any(r => !received.Contains((r, TransferKeys.ReferenceOf(e.EventId, r).ToString("D")))));
        var verify = await GatewayCommandLine.RunAsync(["ledger", "verify", .. GatewayCommandLine.DatabaseSettings]);
        var row = new FaultRow(
            Scenario, Events.Count, decisions, receipts.Count, receipts.Sum(r => r.Deliveries - 1),
            Recipients.Sum(Bed.Receipts.DuplicateEffects), lost, await Bed.MessagesInQueueAsync(Bed.QuarantineQueue) ?? 0,
            await ParkedAsync(), recovered.TotalSeconds, verify.Exit == 0, note);
        FaultReport.Write(row);

        Assert.True(lost == 0, $"{Scenario}: {lost} event(s) lost");
        Assert.True(row.DuplicateEffects == 0, $"{Scenario}: {row.DuplicateEffects} duplicate effect(s)");
        Assert.True(decisions == Expected && distinctDecisions == Expected, $"{Scenario}: {decisions} decisions ({distinctDecisions} distinct) for {Expected} (event × agreement)");
        Assert.Equal(quarantinedExpected, row.Quarantined);
        Assert.Equal(0, row.Parked);
        Assert.True(row.LedgerVerified, $"{Scenario}: ledger verify failed: {verify.Out}{verify.Err}");
        Assert.True(seen == Events.Count && notSettled == 0, $"{Scenario}: {seen} of {Events.Count} events in the intake's memory, {notSettled} not marked settled");
        return row;
    }

    /// <summary>A changed copy of an event under the same id: its hours differ.</summary>
    public static (Guid Id, byte[] Json) Changed(AbsenceReported e)
    {
        var node = JsonNode.Parse(Json(e))!;
        node["absence"]!["hours"] = (e.Absence.Hours ?? 0) + 1;
        return (e.EventId, System.Text.Encoding.UTF8.GetBytes(node.ToJsonString()));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            if (!gateway.HasExited)
            {
                gateway.Terminate();
                await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60));
            }
        }

        await Bed.DisposeAsync();
    }
}

/// <summary>Runs <c>deploy/local/fault.sh</c>.</summary>
internal static class FaultScript
{
    public static async Task<(int Exit, string Output)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
        start.ArgumentList.Add(Path.Combine(RepoPaths.Root, "deploy", "local", "fault.sh"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    /// <summary>Runs it and fails the test when it fails (a fault that was not injected proves nothing).</summary>
    public static async Task InjectAsync(params string[] arguments)
    {
        var (exit, output) = await RunAsync(arguments);
        Assert.True(exit == 0, $"fault.sh {string.Join(' ', arguments)} failed ({exit}): {output}");
    }
}
