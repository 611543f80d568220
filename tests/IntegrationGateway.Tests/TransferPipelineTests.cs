using System.Collections.Concurrent;
using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Tests;

/// <summary>The pipeline's own logic; the HTTP side of delivery is covered by the integration tests.</summary>
public class TransferPipelineTests
{
    /// <summary>Answers with <paramref name="status"/>, after <paramref name="transientFirst"/> transient failures.</summary>
    sealed class ScriptedAdapter(string recipient, DeliveryStatus status, int transientFirst = 0) : IRecipientAdapter
    {
        int _calls;

        public ConcurrentQueue<OutboundTransfer> Received { get; } = new();

        public int Calls => _calls;

        public string Recipient => recipient;

        public Task<DeliveryResult> DeliverAsync(OutboundTransfer transfer, CancellationToken cancellationToken)
        {
            Received.Enqueue(transfer);
            var answer = Interlocked.Increment(ref _calls) <= transientFirst ? DeliveryStatus.Transient : status;
            return Task.FromResult(new DeliveryResult(answer, 200, null, null));
        }
    }

    static Agreement Agreement(string id, string recipient, string[]? senders = null) =>
        TestAgreements.Build(id: id, recipient: recipient, senders: senders, fields: ["eventId", "absence"]);

    static (TransferPipeline, TransferCounters) Pipeline(Agreement[] agreements, params IRecipientAdapter[] adapters)
    {
        var counters = new TransferCounters();
        var options = Options.Create(new DeliveryOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(10), RetryMaxDelay = TimeSpan.FromMilliseconds(40) });
        return (new TransferPipeline(new PolicyEngine(agreements), new RecipientAdapters(adapters), counters, TimeProvider.System, options, NullLogger<TransferPipeline>.Instance), counters);
    }

    static Task Process(TransferPipeline pipeline, Contracts.AbsenceReported e, CancellationToken cancellationToken = default)
    {
        var body = EventJson.ToDocument(e).RootElement;
        return pipeline.ProcessAsync(e.EventId, EventFacts.Of("AbsenceReported", body), body, cancellationToken);
    }

    readonly Contracts.AbsenceReported _event = new SampleEventGenerator(5, TimeProvider.System).NextAbsenceReported();

    [Fact]
    public async Task Process_AllowedTransfer_ReachesTheAdapterWithKeyAndMinimisedPayload()
    {
        var duo = new ScriptedAdapter("duo", DeliveryStatus.Delivered);
        var (pipeline, counters) = Pipeline([Agreement("a1", "duo")], duo);

        await Process(pipeline, _event);

        var transfer = Assert.Single(duo.Received);
        Assert.Equal($"{_event.EventId:D}:a1", transfer.IdempotencyKey);
        Assert.Equal(["absence", "eventId"], System.Text.Json.JsonDocument.Parse(transfer.Payload).RootElement.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(1, counters.Snapshot().Count("duo", TransferOutcome.Delivered));
    }

    [Fact]
    public async Task Process_DeniedTransfer_NeverReachesTheAdapterAndIsCountedBlocked()
    {
        var duo = new ScriptedAdapter("duo", DeliveryStatus.Delivered);
        var (pipeline, counters) = Pipeline([Agreement("a1", "duo", senders: ["99ZZ"])], duo);

        await Process(pipeline, _event);

        Assert.Empty(duo.Received);
        Assert.Equal(1, counters.Snapshot().Count("duo", TransferOutcome.Blocked));
    }

    [Fact]
    public async Task Process_TransientFailures_RetryOnlyThatTransferUntilDelivered()
    {
        var duo = new ScriptedAdapter("duo", DeliveryStatus.Delivered, transientFirst: 3);
        var other = new ScriptedAdapter("other", DeliveryStatus.Delivered);
        var (pipeline, counters) = Pipeline([Agreement("a1", "duo"), Agreement("a2", "other")], duo, other);

        await Process(pipeline, _event);

        Assert.Equal(4, duo.Calls);
        Assert.Equal(1, other.Calls); // the recipient that has it already is not sent it again
        Assert.Single(duo.Received.Select(t => t.IdempotencyKey).Distinct()); // the same key on every attempt
        Assert.Equal(1, counters.Snapshot().Count("duo", TransferOutcome.Delivered));
        Assert.Equal(1, counters.Snapshot().EventsSettled);
    }

    [Fact]
    public async Task Process_RecipientRefuses_IsSettledAsFailedWithoutRetry()
    {
        var duo = new ScriptedAdapter("duo", DeliveryStatus.Rejected);
        var (pipeline, counters) = Pipeline([Agreement("a1", "duo")], duo);

        await Process(pipeline, _event);

        Assert.Equal(1, duo.Calls);
        Assert.Equal(1, counters.Snapshot().Count("duo", TransferOutcome.Failed));
    }

    [Fact]
    public async Task Process_StillFailingAtShutdown_GivesUpWithoutCountingSoTheMessageGoesBack()
    {
        var duo = new ScriptedAdapter("duo", DeliveryStatus.Delivered, transientFirst: int.MaxValue);
        var (pipeline, counters) = Pipeline([Agreement("a1", "duo")], duo);
        using var shutdown = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Process(pipeline, _event, shutdown.Token));

        Assert.True(duo.Calls > 1);
        Assert.Equal(0, counters.Snapshot().EventsSettled);
    }

    [Fact]
    public async Task Process_Unrouted_IsSettledWithoutTransfer()
    {
        var (pipeline, counters) = Pipeline([]);

        await Process(pipeline, _event);

        Assert.Equal(1, counters.Snapshot().EventsUnrouted);
    }
}
