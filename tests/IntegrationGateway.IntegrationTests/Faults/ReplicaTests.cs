using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests.Faults;

/// <summary>
/// N gateway processes on one intake queue and one database, as compose and Kubernetes run them: every event decided
/// once (the ledger's one decision per event and agreement), every receipt once in effect, the ledger chain whole,
/// and the parked-transfer schedulers' leases sending no parked transfer twice; then the same with one replica
/// killed (-9) mid-drain. Counted as the fault tier counts (<see cref="FaultRun.CheckAsync"/>), and written to its report.
/// </summary>
[Trait("Tier", "Fault")]
public sealed class ReplicaTests(ITestOutputHelper output)
{
    const int Replicas = 3;

    [Fact]
    public async Task ThreeReplicas_OnOneQueueAndOneDatabase_DecideEachEventOnce_AndTheirSchedulersSendNoParkedTransferTwice()
    {
        await using var run = await FaultRun.StartAsync("three-replicas");
        // The officer refuses for a while: its transfers park, and then all three schedulers compete for them.
        run.Bed.SimulatorBehaviour.Set("leerplicht", new AgencySimulator.Misbehaviour(503, null, false, TimeSpan.Zero, null));
        var gateways = await StartReplicasAsync(run);
        var drain = Stopwatch.StartNew();
        await run.PublishAsync(run.Events);
        await TestBed.WaitUntilAsync("every DUO transfer received and every officer's parked", () =>
            run.Receipts().Count(r => r.Recipient == "duo") == run.Events.Count && run.ParkedAsync().Result == run.Events.Count, FaultRun.DrainTimeout);
        var parkedAt = drain.Elapsed;
        run.Bed.SimulatorBehaviour.Clear("leerplicht");
        var row = await run.DrainAndCheckAsync(drain, output, $"{Replicas} replicas; leerplicht 503 until all {run.Events.Count:N0} of its transfers were parked ({parkedAt.TotalSeconds:0.0} s), then every scheduler took them");
        // No crash here, so no message was redelivered: a key sent twice could only be two schedulers sending one parked transfer.
        Assert.Equal(0, row.DuplicateDeliveries);
        await AssertEachDidSomeAsync(gateways, run);
    }

    [Fact]
    public async Task ThreeReplicas_OneKilledMinus9MidDrain_TheOthersFinish_NothingLostNothingTwiceInEffect()
    {
        await using var run = await FaultRun.StartAsync("three-replicas-kill-9");
        var gateways = await StartReplicasAsync(run);
        var drain = Stopwatch.StartNew();
        var publishing = run.PublishAsync(run.Events);
        await run.WaitForShareAsync(0.3);
        var killed = gateways[0];
        // It dies with work of its own: events it took, some of them in flight.
        var tookBeforeKill = await AcceptedAsync(killed);
        Assert.True(tookBeforeKill > 0, "the replica to be killed had taken no event");
        killed.KillHard();
        await killed.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var at = drain.Elapsed;
        await publishing;
        var row = await run.DrainAndCheckAsync(drain, output, $"{Replicas} replicas; one killed -9 at {at.TotalSeconds:0.0} s, with 30 % of the transfers received; the other {Replicas - 1} finished");
        output.WriteLine($"the killed replica had taken {tookBeforeKill} event(s); duplicate deliveries (messages in flight at the kill, sent again under their keys): {row.DuplicateDeliveries}");
        await AssertEachDidSomeAsync(gateways[1..], run);
    }

    static async Task<GatewayProcess[]> StartReplicasAsync(FaultRun run)
    {
        var gateways = new GatewayProcess[Replicas];
        for (var i = 0; i < Replicas; i++)
        {
            gateways[i] = await run.StartGatewayAsync();
        }

        return gateways;
    }

    /// <summary>Each replica's own counters (its ops summary): every one took events from the shared queue.</summary>
    async Task AssertEachDidSomeAsync(IReadOnlyList<GatewayProcess> gateways, FaultRun run)
    {
        var accepted = new List<long>();
        foreach (var gateway in gateways)
        {
            accepted.Add(await AcceptedAsync(gateway));
        }

        output.WriteLine($"events each replica took: {string.Join(", ", accepted)} (of {run.Events.Count:N0})");
        Assert.All(accepted, a => Assert.True(a > 0, $"a replica took no event: {string.Join(", ", accepted)}"));
    }

    /// <summary>Events a replica's intake took, from its own ops summary.</summary>
    static async Task<long> AcceptedAsync(GatewayProcess gateway)
    {
        using var http = await OpsSignIn.ClientAsync(gateway.BaseUrl, "operator");
        var summary = await http.GetFromJsonAsync<JsonObject>("/ops/summary");
        return summary!["intake"]!["accepted"]!.GetValue<long>();
    }
}
