using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests;

/// <summary>A SIGTERM in the middle of a burst loses nothing: what was in flight finishes or goes back to the queue.</summary>
public sealed class GracefulShutdownTests(ITestOutputHelper output)
{
    const int Burst = 1000;

    [Fact]
    public async Task Sigterm_DuringABurstOf1000_LosesNoEvent()
    {
        await using var bed = await TestBed.StartAsync();
        // Slow the agency down so the burst is still being worked through when the signal comes.
        bed.SimulatorBehaviour.Latency = TimeSpan.FromMilliseconds(25);
        var settings = bed.GatewaySettings();
        var events = new SampleEventGenerator(2002, TimeProvider.System).AbsenceReported(Burst);

        var first = bed.StartGatewayProcess(settings);
        await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        // The burst is published concurrently, as many school systems would; the signal comes while it still arrives.
        var publishing = Task.WhenAll(events.Chunk(Burst / 10).Select(chunk => Task.Run(() => bed.PublishAsync(chunk))));
        await bed.WaitForReceiptsAsync("duo", Burst / 5, TimeSpan.FromSeconds(60));

        var atSignal = bed.Receipts.List("duo").Count;
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        first.Terminate();
        var exitCode = await first.WaitForExitAsync(TimeSpan.FromSeconds(60));
        var atShutdown = bed.Receipts.List("duo").Count;
        output.WriteLine($"SIGTERM at {atSignal} receipts; exited with {exitCode} after {stopping.ElapsedMilliseconds} ms at {atShutdown} receipts");

        await publishing;
        Assert.Equal(0, exitCode);
        // The signal really came mid-burst, and the restart had work left to prove itself on.
        Assert.InRange(atSignal, Burst / 5, Burst / 2);
        Assert.InRange(atShutdown, atSignal, Burst - 100);
        var waiting = await bed.MessagesInQueueAsync(bed.QueueName);

        bed.SimulatorBehaviour.Latency = TimeSpan.Zero;
        var second = bed.StartGatewayProcess(settings);
        await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        var receipts = await bed.WaitForReceiptsAsync("duo", Burst, TimeSpan.FromSeconds(120));
        second.Terminate();
        await second.WaitForExitAsync(TimeSpan.FromSeconds(60));

        var delivered = receipts.Select(r => r.EventOf(events.Select(e => e.EventId))).OfType<Guid>().ToHashSet();
        var missing = events.Count(e => !delivered.Contains(e.EventId));
        var duplicateDeliveries = receipts.Sum(r => r.Deliveries - 1);
        output.WriteLine($"burst {Burst}; delivered before SIGTERM completed {atShutdown}; left in queue {waiting}; " +
                         $"delivered after restart {receipts.Count - atShutdown}; unique {delivered.Count}; missing {missing}; duplicate deliveries {duplicateDeliveries}");

        Assert.Equal(0, missing);
        Assert.Equal(Burst, receipts.Count);
        Assert.Equal(0u, await bed.MessagesInQueueAsync(bed.QuarantineQueue));

        Assert.Contains("Application is shutting down", first.Output);
        AssertNoPersonalValues(events, first.Output + second.Output);
    }

    [Fact]
    public async Task RecipientsDown_TransfersAreParkedAndAcknowledged_SurviveARestart_AndAreDeliveredAfterIt()
    {
        const int count = 40;
        await using var bed = await TestBed.StartAsync();
        bed.SimulatorBehaviour.FailWith = 503;
        var settings = bed.FastGatewaySettings();

        var events = new SampleEventGenerator(404, TimeProvider.System).AbsenceReported(count);

        var first = bed.StartGatewayProcess(settings);
        await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        await bed.PublishAsync(events);
        // Each event goes to DUO and the compulsory-education officer: 80 transfers, all parked, every message acked.
        var parked = await bed.WaitForParkedAsync(2 * count, TimeSpan.FromSeconds(60));
        var waitingInQueue = await bed.MessagesInQueueAsync(bed.QueueName);
        first.Terminate();
        var exitCode = await first.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, exitCode);
        Assert.Equal(2 * count, parked);
        Assert.Equal(0u, waitingInQueue);
        Assert.Empty(bed.Receipts.List(null));

        bed.SimulatorBehaviour.FailWith = null;
        var second = bed.StartGatewayProcess(settings);
        await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        var duo = await bed.WaitForReceiptsAsync("duo", count, TimeSpan.FromSeconds(60));
        var leerplicht = await bed.WaitForReceiptsAsync("leerplicht", count, TimeSpan.FromSeconds(30));
        var left = await bed.WaitForParkedAsync(0, TimeSpan.FromSeconds(10));
        second.Terminate();
        await second.WaitForExitAsync(TimeSpan.FromSeconds(60));

        output.WriteLine($"failed attempts before the restart {bed.SimulatorBehaviour.FailuresFor("duo")} (duo); parked {parked}; delivered after restart duo {duo.Count}, leerplicht {leerplicht.Count}; left parked {left}");
        Assert.Equal(count, duo.Count);
        Assert.Equal(count, leerplicht.Count);
        Assert.Equal(0, left);
        Assert.All(duo.Concat(leerplicht), r => Assert.Equal(1, r.Deliveries));
        Assert.Equal(0, bed.Receipts.DuplicateEffects("duo") + bed.Receipts.DuplicateEffects("leerplicht"));
        Assert.Equal(0u, await bed.MessagesInQueueAsync(bed.QuarantineQueue));
        AssertNoPersonalValues(events, first.Output + second.Output);
    }

    /// <summary>
    /// A gateway that dies (kill -9) or stops (SIGTERM) while the scheduler holds leases on parked transfers: the
    /// gateway started next takes them over at its first round instead of waiting out the lease (2 minutes, as shipped).
    /// </summary>
    [Theory]
    [InlineData("SIGKILL")]
    [InlineData("SIGTERM")]
    public async Task AGatewayGoneWhileItsParkedTransfersAreLeased_TheNextOneDeliversThemWithin10sOfStarting(string signal)
    {
        const int count = 20;
        await using var bed = await TestBed.StartAsync();
        bed.SimulatorBehaviour.FailWith = 503;
        var settings = bed.FastGatewaySettings();

        Assert.False(settings.ContainsKey("Delivery:SchedulerLease"), "the lease as shipped: a restart must not wait it out");
        // No circuit: the scheduler's calls reach the slow agency and hang there, under their lease, when the signal comes.
        settings["Delivery:CircuitMinimumThroughput"] = "1000";
        var events = new SampleEventGenerator(1503, TimeProvider.System).AbsenceReported(count);
        var first = bed.StartGatewayProcess(settings);
        await first.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        await bed.PublishAsync(events);
        Assert.Equal(2 * count, await bed.WaitForParkedAsync(2 * count, TimeSpan.FromSeconds(60)));

        // The agencies answer again, slowly: the scheduler takes a batch under its lease and is still sending it.
        bed.SimulatorBehaviour.Latency = TimeSpan.FromSeconds(30);
        bed.SimulatorBehaviour.FailWith = null;
        var leased = await WaitForLeasedAsync(TimeSpan.FromSeconds(30));
        if (signal == "SIGKILL")
        {
            first.KillHard();
        }
        else
        {
            first.Terminate();
        }

        await first.WaitForExitAsync(TimeSpan.FromSeconds(60));
        bed.SimulatorBehaviour.Latency = TimeSpan.Zero;
        var started = System.Diagnostics.Stopwatch.StartNew();
        var second = bed.StartGatewayProcess(settings);
        await second.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        var ready = started.Elapsed;
        // Waited for past the lease, so a failure says how long it really took.
        var duo = await bed.WaitForReceiptsAsync("duo", count, TimeSpan.FromSeconds(150));
        var leerplicht = await bed.WaitForReceiptsAsync("leerplicht", count, TimeSpan.FromSeconds(150));
        var took = started.Elapsed;
        var left = await bed.WaitForParkedAsync(0, TimeSpan.FromSeconds(10));

        output.WriteLine($"{signal} with {leased} of {2 * count} parked transfers leased; the next gateway ready after {ready.TotalSeconds:0.0} s, every transfer delivered {took.TotalSeconds:0.0} s after its start; left parked {left}");
        Assert.Equal(count, duo.Count);
        Assert.Equal(count, leerplicht.Count);
        Assert.True(took < TimeSpan.FromSeconds(10), $"delivered {took.TotalSeconds:0.0} s after the start");
        Assert.Equal(0, left);
        Assert.Equal(0, bed.Receipts.DuplicateEffects("duo") + bed.Receipts.DuplicateEffects("leerplicht"));
        if (signal == "SIGTERM")
        {
            // Given back at the stop, not taken over later: the stop's own line says how many.
            Assert.Matches(@"gave back its leases \([1-9][0-9]*\) and left", first.Output);
        }
    }

    static async Task<long> WaitForLeasedAsync(TimeSpan timeout)
    {
        await using var database = Npgsql.NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        var leased = 0L;
        await TestBed.WaitUntilAsync("a parked transfer under a lease", () =>
        {
            using var command = database.CreateCommand("SELECT count(*) FROM parked_transfer WHERE lease_id IS NOT NULL");
            leased = (long)command.ExecuteScalar()!;
            return leased > 0;
        }, timeout);
        return leased;
    }

    /// <summary>Nothing about the people in the events was written to the gateway's output on the way.</summary>
    static void AssertNoPersonalValues(IEnumerable<Contracts.AbsenceReported> events, string log)
    {
        foreach (var e in events)
        {
            string[] values = [e.Subject.Bsn!, e.Subject.Email!, e.Subject.LocalId, e.Subject.Phone!, $"{e.Subject.GivenName} {e.Subject.FamilyName}", e.Subject.Address!.PostalCode!];
            Assert.DoesNotContain(values, v => log.Contains(v, StringComparison.Ordinal));
        }
    }
}
