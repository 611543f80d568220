using IntegrationGateway.Gateway.Delivery;
using MassTransit;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>
/// Thin intake consumer: turns the contract into the JSON tree the policy engine reads and hands it to the
/// pipeline. The message is acknowledged only when the pipeline returns, i.e. when every transfer is settled.
/// </summary>
internal sealed class EventConsumer<T>(TransferPipeline pipeline) : IConsumer<T>
    where T : class
{
    public Task Consume(ConsumeContext<T> context)
    {
        var body = EventJson.ToJsonObject(context.Message);
        var eventId = body["eventId"]!.GetValue<Guid>();
        return pipeline.ProcessAsync(eventId, EventJson.FactsOf(typeof(T).Name, body), body, context.CancellationToken);
    }
}
