using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Policy;
using MassTransit;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>
/// Thin intake consumer: turns the contract into the JSON tree the policy engine reads and hands it to the
/// pipeline. The message is acknowledged only when the pipeline returns, i.e. when every transfer is settled.
/// </summary>
internal sealed class EventConsumer<T>(TransferPipeline pipeline) : IConsumer<T>
    where T : class
{
    public async Task Consume(ConsumeContext<T> context)
    {
        using var document = EventJson.ToDocument(context.Message);
        var body = document.RootElement;
        await pipeline.ProcessAsync(body.GetProperty("eventId").GetGuid(), EventFacts.Of(typeof(T).Name, body), body, context.CancellationToken);
    }
}
