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
/// <item>per controller publisher (broker user), the same contract exchanges under its own prefix,
/// <c>&lt;user&gt;.IntegrationGateway.Contracts:&lt;EventType&gt;</c>, bound to the intake exchange: MassTransit declares the
/// exchange it publishes to, which takes the configure permission, so a publisher may configure its own exchanges
/// only; deleting or re-declaring them cuts off no one but itself;</item>
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

    /// <summary>A controller publisher's own contract exchange: its broker user, '.', and the contract exchange's name.</summary>
    public static string ContractExchange(string publisher, string eventType) => $"{publisher}.{ContractExchange(eventType)}";

    /// <summary>
    /// The contract exchange <paramref name="exchange"/> names, without a publisher's prefix (<c>user.</c>), or null
    /// when it is not one: the type it names is read from what follows.
    /// </summary>
    public static string? WithoutPublisher(string? exchange)
    {
        if (exchange is null)
        {
            return null;
        }

        var at = exchange.IndexOf("." + ContractsNamespace + ":", StringComparison.Ordinal);
        return at > 0 && exchange.AsSpan(0, at).IndexOfAnyExcept("abcdefghijklmnopqrstuvwxyz0123456789-") < 0 ? exchange[(at + 1)..] : exchange;
    }

    static readonly Dictionary<string, object?> Quorum = new() { ["x-queue-type"] = "quorum" };

    /// <summary>
    /// Declares the intake's topology, and each publisher's own contract exchanges on a channel of their own: a
    /// publisher that re-declared one of its exchanges otherwise (another type) breaks its own MassTransit path, not
    /// the gateway's start. Returns the publishers whose exchanges could not be declared.
    /// </summary>
    public static async Task<IReadOnlyList<string>> DeclareAsync(IConnection connection, IntakeOptions intake, IEnumerable<string> publishers, CancellationToken cancellationToken)
    {
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken))
        {
            await DeclareAsync(channel, intake, cancellationToken);
        }

        var failed = new List<string>();
        foreach (var publisher in publishers.Distinct(StringComparer.Ordinal))
        {
            await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            try
            {
                foreach (var eventType in EventCatalogue.Default.Types.Keys)
                {
                    await channel.ExchangeDeclareAsync(ContractExchange(publisher, eventType), ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
                    await channel.ExchangeBindAsync(ExchangeName(intake), ContractExchange(publisher, eventType), routingKey: "", cancellationToken: cancellationToken);
                }
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 406)
            {
                failed.Add(publisher); // PRECONDITION_FAILED: the publisher declared one of its exchanges as another kind
            }
        }

        return failed;
    }

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
