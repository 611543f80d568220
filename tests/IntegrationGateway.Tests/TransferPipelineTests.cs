using System.Collections.Concurrent;
using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;
using Microsoft.Extensions.Logging.Abstractions;

namespace IntegrationGateway.Tests;

/// <summary>The pipeline's own logic; the HTTP side of delivery is covered by the integration tests.</summary>
public class TransferPipelineTests
{
    sealed class ScriptedAdapter(string recipient, DeliveryStatus status) : IRecipientAdapter
    {
        public ConcurrentQueue<OutboundTransfer> Received { get; } = new();

        public string Recipient => recipient;

        public Task<DeliveryResult> DeliverAsync(OutboundTransfer transfer, CancellationToken cancellationToken)
        {
            Received.Enqueue(transfer);
            return Task.FromResult(new DeliveryResult(status, 200, null, null));
        }
    }

    static Agreement Agreement(string id, string recipient, string[]? senders = null) =>
        TestAgreements.Build(id: id, recipient: recipient, senders: senders, fields: ["eventId", "absence"]);

    static (TransferPipeline, TransferCounters) Pipeline(Agreement[] agreements, params IRecipientAdapter[] adapters)
    {
        var counters = new TransferCounters();
        return (new TransferPipeline(new PolicyEngine(agreements), new RecipientAdapters(adapters), counters, TimeProvider.System, NullLogger<TransferPipeline>.Instance), counters);
    }

    static Task Process(TransferPipeline pipeline, Contracts.AbsenceReported e)
    {
        var body = EventJson.ToDocument(e).RootElement;
        return pipeline.ProcessAsync(e.EventId, EventFacts.Of("AbsenceReported", body), body, CancellationToken.None);
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
    public async Task Process_TransientFailure_ThrowsSoTheMessageIsRetriedAndCountsNothing()
    {
        var duo = new ScriptedAdapter("duo", DeliveryStatus.Transient);
        var other = new ScriptedAdapter("other", DeliveryStatus.Delivered);
        var (pipeline, counters) = Pipeline([Agreement("a1", "duo"), Agreement("a2", "other")], duo, other);

        var ex = await Assert.ThrowsAsync<TransferNotSettledException>(() => Process(pipeline, _event));

        Assert.Contains(_event.EventId.ToString("D"), ex.Message);
        Assert.DoesNotContain(_event.Subject.Bsn!, ex.Message);
        Assert.Single(other.Received); // the other recipient is not held back
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
