using System.Collections.Concurrent;
using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Policy;
using Microsoft.Extensions.Time.Testing;

namespace IntegrationGateway.Tests.Component;

/// <summary>
/// The delivery path on in-memory stores and a fake clock: no broker, no database. What each test varies is the
/// agreements and what the scripted recipients answer.
/// </summary>
internal sealed class ComponentBed
{
    public static readonly DateTimeOffset Start = new(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);

    /// <summary>A decision's context as the settler tests use it: a school's transfer under version 3 of an agreement.</summary>
    public static readonly Gateway.Storage.DecisionContext Context = new("test-school", "12AB", 3, "GDPR 6(1)(c); act", [[9, 9]]);

    public ComponentBed()
    {
        Time = new FakeTimeProvider(Start);
        Keys = LedgerKeys.FromBase64(Convert.ToBase64String(new byte[32]));
        Store = new InMemoryTransferStore(Time);
        Subjects = new InMemorySubjects(Keys);
        Ledger = new InMemoryLedger(Events);
        Gateway = new TestGateway { Store = Store, Routes = Routes, Ledger = Ledger, Subjects = Subjects, History = Ledger, Keys = Keys, Time = Time };
    }

    public FakeTimeProvider Time { get; }
    public LedgerKeys Keys { get; }
    public InMemoryTransferStore Store { get; }
    public InMemoryRoutes Routes { get; } = new();
    public InMemoryLedger Ledger { get; }
    public InMemorySubjects Subjects { get; }
    public InMemoryEventRegister Events { get; } = new();
    public TestGateway Gateway { get; }
    public TransferCounters Counters => Gateway.Counters;
}

/// <summary>A recipient that answers from a script (the last answer repeats), recording what it was sent.</summary>
internal sealed class ScriptedRecipient(string recipient, params DeliveryResult[] answers) : IRecipientAdapter
{
    int _calls;

    public static DeliveryResult Answer(int statusCode, TimeSpan? retryAfter = null) =>
        DeliveryResult.FromStatusCode(statusCode, statusCode < 300 ? $"receipt-{statusCode}" : null) with { RetryAfter = retryAfter, SentSha256 = [1, 2, 3] };

    public ConcurrentQueue<OutboundTransfer> Received { get; } = new();

    public int Calls => _calls;

    public string Recipient => recipient;

    public bool TakesErasureNotices => true;

    public Task<DeliveryResult> DeliverAsync(OutboundTransfer transfer, CancellationToken cancellationToken)
    {
        Received.Enqueue(transfer);
        var call = Interlocked.Increment(ref _calls);
        return Task.FromResult(answers[Math.Min(call, answers.Length) - 1]);
    }
}
