using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Hosting;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>
/// The data-subject events (rectification, erasure, consent, objection) carry instructions the gateway cannot carry
/// out yet: it has no store for them. Consuming them would acknowledge and lose them; not binding them would let the
/// broker drop them. So at start, before the bus, this declares a durable quorum queue and binds their exchanges to
/// it: they wait there, whole, for the subject-rights handling that will consume them.
/// </summary>
internal sealed class SubjectRightsHolding(IOptions<RabbitMqOptions> broker, IOptions<IntakeOptions> intake) : IHostedService
{
    public static readonly IReadOnlyList<Type> HeldEvents = [typeof(PersonalDataRectified), typeof(ErasureRequested), typeof(ConsentChanged), typeof(ObjectionLodged)];

    public static string QueueName(IntakeOptions intake) => intake.QueueName + ".subject-rights";

    /// <summary>The exchange MassTransit publishes a message type to: its full name with ':' before the type.</summary>
    public static string ExchangeOf(Type type) => $"{type.Namespace}:{type.Name}";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = broker.Value;
        var factory = new ConnectionFactory
        {
            HostName = options.Host,
            Port = options.Port,
            VirtualHost = options.VirtualHost,
            UserName = options.Username,
            Password = options.Password,
            ClientProvidedName = "integration-gateway-topology",
        };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var queue = QueueName(intake.Value);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }, cancellationToken: cancellationToken);
        foreach (var type in HeldEvents)
        {
            // Declared as MassTransit declares a message type's exchange, so either may come first.
            await channel.ExchangeDeclareAsync(ExchangeOf(type), ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.QueueBindAsync(queue, ExchangeOf(type), routingKey: "", cancellationToken: cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
