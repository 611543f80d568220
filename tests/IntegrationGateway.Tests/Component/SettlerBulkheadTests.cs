using System.Collections.Concurrent;
using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Storage;

namespace IntegrationGateway.Tests.Component;

/// <summary>
/// A failing or slow recipient costs the intake almost nothing: once it is impaired its first attempts park untried
/// but for one probe at a time, and a first attempt that outlasts the wait is parked under a lease and finished later.
/// </summary>
[Trait("Tier", "Component")]
public class SettlerBulkheadTests
{
    readonly ComponentBed _bed = new();
    static readonly DecisionContext Context = ComponentBed.Context;

    static TransferAttempt First(int i, Task? decided = null) =>
        new(new OutboundTransfer($"e{i}:a1", Guid.NewGuid(), "AbsenceReported", "a1", "{}"u8.ToArray()), "leerplicht", Context) { Decided = decided };

    /// <summary>Answers each call with the next of its answers; a call with no answer ready waits until one is given.</summary>
    sealed class GatedRecipient : IRecipientAdapter
    {
        readonly ConcurrentQueue<TaskCompletionSource<DeliveryResult>> _answers = new();
        int _calls;

        public string Recipient => "leerplicht";

        public bool TakesErasureNotices => true;

        public int Calls => _calls;

        public readonly ConcurrentQueue<TaskCompletionSource<DeliveryResult>> Waiting = new();

        public void Answer(int status) => _answers.Enqueue(Completed(status));

        static TaskCompletionSource<DeliveryResult> Completed(int status)
        {
            var answer = new TaskCompletionSource<DeliveryResult>();
            answer.SetResult(ScriptedRecipient.Answer(status));
            return answer;
        }

        public Task<DeliveryResult> DeliverAsync(OutboundTransfer transfer, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            if (_answers.TryDequeue(out var ready))
            {
                return ready.Task;
            }

            var waiting = new TaskCompletionSource<DeliveryResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            Waiting.Enqueue(waiting);
            return waiting.Task;
        }
    }

    [Fact]
    public async Task AfterTwoFailuresRunning_FirstAttemptsParkUntried_ButOneProbe_UntilItAnswers()
    {
        var recipient = new GatedRecipient();
        var adapters = TestGateway.Adapters(recipient);
        var settler = _bed.Gateway.Settler(adapters);
        recipient.Answer(503);
        recipient.Answer(503);
        await settler.DeliverAsync(First(1), default);
        await settler.DeliverAsync(First(2), default);
        Assert.True(adapters.Bulkhead.Impaired("leerplicht"));

        // The probe: it goes out, and waits for an answer. Meanwhile ten more transfers come.
        var probe = settler.DeliverAsync(First(3), default);
        var meanwhile = await Task.WhenAll(Enumerable.Range(4, 10).Select(i => settler.DeliverAsync(First(i), default)));

        Assert.Equal(3, recipient.Calls);
        Assert.All(meanwhile, s => Assert.Equal((TransferOutcome.Parked, "parked"), (s.Outcome, s.Recorded)));
        Assert.Equal(10, _bed.Store.Rows.Count(r => r.LastProblem == "not tried: the recipient is failing or slow"));

        // The probe's answer comes in time: the recipient is well, and the next transfer goes out.
        Assert.True(recipient.Waiting.TryDequeue(out var answer));
        answer.SetResult(ScriptedRecipient.Answer(201));
        Assert.Equal(TransferOutcome.Delivered, (await probe).Outcome);
        Assert.False(adapters.Bulkhead.Impaired("leerplicht"));
        recipient.Answer(201);
        Assert.Equal(TransferOutcome.Delivered, (await settler.DeliverAsync(First(20), default)).Outcome);
        Assert.Equal(4, recipient.Calls);
    }

    [Fact]
    public async Task AFirstAttemptStillInFlightAfterTheWait_IsParkedUnderALease_AndSettledWhenItEnds_AfterItsDecision()
    {
        var recipient = new GatedRecipient();
        var adapters = TestGateway.Adapters(recipient);
        var settler = _bed.Gateway.Settler(adapters);
        var decided = new TaskCompletionSource();
        var attempt = First(1, decided.Task);

        var delivering = settler.DeliverAsync(attempt, default);
        await TestBedWait.UntilAsync(() => !recipient.Waiting.IsEmpty);
        _bed.Time.Advance(new DeliveryOptions().FirstAttemptWait);
        var settlement = await delivering;

        Assert.Equal((TransferOutcome.Parked, "parked"), (settlement.Outcome, settlement.Recorded));
        var row = Assert.Single(_bed.Store.Rows);
        Assert.NotNull(row.LeaseId);
        Assert.True(adapters.Bulkhead.Impaired("leerplicht"), "slow: the next first attempt is not waited for");
        // Nothing claims it while it is in flight: the lease runs past now.
        Assert.Empty(await _bed.Store.ClaimDueAsync(10, TimeSpan.FromMinutes(2), [], default));

        // The agency answers; the outcome waits for the decision to be committed, then the row goes.
        Assert.True(recipient.Waiting.TryDequeue(out var answer));
        answer.SetResult(ScriptedRecipient.Answer(201));
        // It cannot settle before the decision: given time (a bound, not a guess), it is still waiting.
        await settler.DrainAsync(TimeSpan.FromMilliseconds(300));
        Assert.Empty(_bed.Ledger.Entries);
        Assert.Single(_bed.Store.Rows);
        decided.SetResult();
        await TestBedWait.UntilAsync(() => _bed.Store.Rows.Count == 0);
        var outcome = Assert.Single(_bed.Ledger.Entries);
        Assert.Equal((LedgerKinds.Outcome, "delivered", 1), (outcome.Kind, outcome.Outcome, outcome.Attempts));
    }
}

/// <summary>Waits for a condition the code under test makes true on another thread (no fixed delay).</summary>
internal static class TestBedWait
{
    public static async Task UntilAsync(Func<bool> done, int seconds = 10)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!done())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(seconds), "timed out waiting");
            await Task.Delay(10);
        }
    }
}
