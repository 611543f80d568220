using IntegrationGateway.Gateway.Hosting;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>
/// Publishes events to the intake as raw JSON, with the settings the publishing guide recommends to every
/// publisher: persistent messages, publisher confirms and the mandatory flag, so a message the broker cannot
/// route to a queue is an error here rather than a silent drop; and the AMQP <c>user_id</c> set to the connection's
/// user, which the intake requires (RabbitMQ refuses any other value, so it proves who published).
/// </summary>
public sealed class IntakePublisher : IAsyncDisposable
{
    readonly IConnection _connection;
    readonly IChannel _channel;
    readonly string _exchange;
    readonly string _user;

    IntakePublisher(IConnection connection, IChannel channel, string exchange, string user)
    {
        _connection = connection;
        _channel = channel;
        _exchange = exchange;
        _user = user;
    }

    public string Exchange => _exchange;

    public static async Task<IntakePublisher> ConnectAsync(RabbitMqOptions broker, IntakeOptions intake, CancellationToken cancellationToken = default)
    {
        var connection = await RabbitMqConnections.OpenAsync(broker, "integration-gateway-publisher", cancellationToken);
        var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        return new IntakePublisher(connection, channel, IntakeTopology.ExchangeName(intake), broker.Username);
    }

    /// <summary>
    /// Publishes one event and waits for the broker's confirm. Throws <see cref="IntakePublishException"/> when the
    /// broker returns it (no queue bound: the intake topology is missing) or refuses it.
    /// </summary>
    public async Task PublishAsync(string eventType, ReadOnlyMemory<byte> json, Guid? eventId, CancellationToken cancellationToken = default)
    {
        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = "application/json",
            Type = eventType,
            MessageId = eventId?.ToString("D"),
            UserId = _user,
        };
        try
        {
            await _channel.BasicPublishAsync(_exchange, routingKey: "", mandatory: true, properties, json, cancellationToken);
        }
        catch (PublishException ex) when (ex.IsReturn)
        {
            throw new IntakePublishException(
                $"RabbitMQ returned the message: no queue is bound to the exchange '{_exchange}'. Start the gateway once " +
                "(it declares the intake queue and its bindings) before publishing.", ex);
        }
        catch (PublishException ex)
        {
            throw new IntakePublishException($"RabbitMQ did not accept the message on '{_exchange}' (negative confirm).", ex);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            throw new IntakePublishException(
                $"RabbitMQ has no exchange '{_exchange}' (NOT_FOUND). Start the gateway once (it declares the intake " +
                "exchange, queue and bindings) before publishing.", ex);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 403)
        {
            throw new IntakePublishException(
                $"RabbitMQ refused the publish (ACCESS_REFUSED): broker user '{_user}' may not write to '{_exchange}'. A controller's publisher writes to the intake exchange only; see deploy/config/controllers/README.md.", ex);
        }
        catch (OperationInterruptedException ex)
        {
            // e.g. 404 NOT_FOUND when the exchange itself does not exist; the reply text names only the exchange.
            throw new IntakePublishException($"RabbitMQ closed the channel: {ex.ShutdownReason?.ReplyText ?? ex.Message}", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }
}

/// <summary>The broker did not take a published event; the message says why and what to do.</summary>
public sealed class IntakePublishException(string message, Exception? inner) : Exception(message, inner);
