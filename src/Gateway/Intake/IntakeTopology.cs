using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Policy;
using RabbitMQ.Client;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>
/// The intake's place on the broker, declared durable and idempotently before the gateway consumes anything, so a
/// publisher never meets an exchange without a queue, and a gateway that is down leaves the queue collecting:
/// <list type="bullet">
/// <item>the intake exchange (fanout, named as the queue) bound to the intake queue (quorum): raw JSON goes here;</item>
/// <item>one fanout exchange per event contract, <c>IntegrationGateway.Contracts:&lt;EventType&gt;</c>, bound to the
/// intake exchange: where MassTransit publishes a record;</item>
/// <item><c>&lt;queue&gt;.quarantine</c>: refused messages, sealed, with the reasons in headers.</item>
/// </list>
/// </summary>
public static class IntakeTopology
{
    public const string ContractsNamespace = "IntegrationGateway.Contracts";

    public static string ExchangeName(IntakeOptions intake) => intake.QueueName;

    public static string QuarantineQueue(IntakeOptions intake) => intake.QueueName + ".quarantine";

    /// <summary>The exchange MassTransit publishes a message type to: its namespace, ':' and its name.</summary>
    public static string ContractExchange(string eventType) => $"{ContractsNamespace}:{eventType}";

    static readonly Dictionary<string, object?> Quorum = new() { ["x-queue-type"] = "quorum" };

    public static async Task DeclareAsync(IChannel channel, IntakeOptions intake, CancellationToken cancellationToken)
    {
        var exchange = ExchangeName(intake);
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        await DeclareQueueAsync(channel, intake.QueueName, cancellationToken);
        await channel.QueueBindAsync(intake.QueueName, exchange, routingKey: "", cancellationToken: cancellationToken);
        await DeclareQueueAsync(channel, QuarantineQueue(intake), cancellationToken);

        foreach (var eventType in EventCatalogue.Default.Types.Keys)
        {
            await channel.ExchangeDeclareAsync(ContractExchange(eventType), ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);

            // Declared (above) as MassTransit declares a message type's exchange, so either side may come first.
            await channel.ExchangeBindAsync(exchange, ContractExchange(eventType), routingKey: "", cancellationToken: cancellationToken);
        }
    }

    static Task DeclareQueueAsync(IChannel channel, string queue, CancellationToken cancellationToken) =>
        channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: Quorum, cancellationToken: cancellationToken);
}
