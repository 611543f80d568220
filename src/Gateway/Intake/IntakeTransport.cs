using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Sealing;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>
/// The intake's RabbitMQ side and nothing else: declares the topology, consumes the intake queue with the plain client
/// (bodies as bytes, so nothing a publisher sends can break it), hands each message to the broker-free
/// <see cref="IntakeHandler"/>, quarantines what it refuses (<see cref="Quarantine"/>), and acknowledges. A message is
/// acknowledged only once that is done; an outage keeps it and tries again in place (<see cref="IntakeRetries.KeepTrying"/>).
/// At shutdown no new message starts, those in flight get <see cref="IntakeOptions.StopTimeout"/>, the rest go back.
/// </summary>
internal sealed class IntakeTransport(
    IOptions<RabbitMqOptions> broker, IOptions<IntakeOptions> intake, IntakeHandler handler, Sealer seal, IntakeCounters counters, Policy.ControllerRegistry controllers, TimeProvider time, ILogger<IntakeTransport> logger)
    : IHostedService, IAsyncDisposable
{
    readonly CancellationTokenSource _stopping = new();
    readonly Polly.ResiliencePipeline<IntakeResult> _keepTrying = IntakeRetries.KeepTrying(time, (problem, wait) => logger.LogKeptForRetry(problem, wait.TotalSeconds));
    IConnection? _connection, _publishConnection;
    IChannel? _consume, _publish;
    AsyncEventingBasicConsumer? _consumer;
    Quarantine? _quarantine;
    string? _consumerTag;
    volatile bool _draining;
    int _inFlight;

    /// <summary>Connected and consuming: what <c>/health/ready</c> reports as <c>rabbitmq</c>.</summary>
    public bool IsConsuming => !_draining && _consumer is { IsRunning: true } && _connection?.IsOpen == true && _consume?.IsOpen == true && _publish?.IsOpen == true;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = intake.Value;
        _connection = await RabbitMqConnect.ConnectAsync(broker.Value, "integration-gateway", time, logger, cancellationToken);
        foreach (var publisher in await IntakeTopology.DeclareAsync(_connection, settings, controllers.All.SelectMany(c => c.BrokerUsers), cancellationToken))
        {
            logger.LogPublisherExchangesRefused(publisher);
        }

        // Quarantining on a connection of its own: when the broker blocks publishers (a memory or disk alarm), the
        // consumer can still take and acknowledge messages.
        _publishConnection = await RabbitMqConnect.ConnectAsync(broker.Value, "integration-gateway-quarantine", time, logger, cancellationToken);
        _publish = await Quarantine.ConfirmingChannelAsync(_publishConnection, cancellationToken);
        _quarantine = new Quarantine(_publish, settings, seal, time);
        _consume = await _connection.CreateChannelAsync(new CreateChannelOptions(false, false, consumerDispatchConcurrency: (ushort)settings.ConcurrentMessageLimit), cancellationToken);
        await _consume.BasicQosAsync(0, (ushort)settings.PrefetchCount, global: false, cancellationToken);
        _consumer = new AsyncEventingBasicConsumer(_consume);
        _consumer.ReceivedAsync += OnReceivedAsync;
        _consumerTag = await _consume.BasicConsumeAsync(settings.QueueName, autoAck: false, _consumer, cancellationToken);
        logger.LogConsuming(settings.QueueName, broker.Value.Address, settings.ConcurrentMessageLimit);
    }

    async Task OnReceivedAsync(object sender, BasicDeliverEventArgs delivery)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            if (_draining)
            {
                await SettleAsync(delivery.DeliveryTag, ack: false); // delivered ahead of time, not started before shutdown: back untouched
                return;
            }

            var properties = delivery.BasicProperties;
            var message = new IntakeMessage(delivery.Body, properties.ContentType, properties.Type, delivery.Exchange, properties.UserId);
            var tries = 0;
            await _keepTrying.ExecuteAsync(async token =>
            {
                var result = await handler.HandleAsync(message, properties.Headers, delivery.Redelivered || tries++ > 0, token);
                if (result is IntakeResult.Quarantined quarantined)
                {
                    await _quarantine!.PublishAsync(message, quarantined);
                    counters.CountQuarantined(quarantined.Violations[0].Rule);
                    logger.LogQuarantined(quarantined.EventType ?? "unknown type", quarantined.EventId, Quarantine.Reasons(quarantined.Violations));
                }

                return result;
            }, _stopping.Token);
            await SettleAsync(delivery.DeliveryTag, ack: true);
        }
        catch (Exception) when (_stopping.IsCancellationRequested)
        {
            await SettleAsync(delivery.DeliveryTag, ack: false); // shutting down: back to the queue, whatever stopped it
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    async Task SettleAsync(ulong deliveryTag, bool ack)
    {
        try
        {
            await (ack ? _consume!.BasicAckAsync(deliveryTag, false) : _consume!.BasicNackAsync(deliveryTag, false, requeue: true));
        }
        catch (Exception ex) when (ex is AlreadyClosedException or ObjectDisposedException)
        {
            // The channel went with its connection: the broker hands the message out again, and the idempotency key
            // keeps a second delivery from taking effect twice.
            logger.LogSettleLost(deliveryTag);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        try
        {
            if (_consume is { IsOpen: true } && _consumerTag is not null)
            {
                await _consume.BasicCancelAsync(_consumerTag, noWait: false, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or OperationCanceledException)
        {
            // Not consuming any more either way; what was delivered is settled below or returned with the channel.
        }

        // Those in flight get time to finish; then their token is cancelled and they hand their message back. The
        // second wait ignores the host's token: the handlers must be done before the channels are disposed.
        await WaitForInFlightAsync(intake.Value.StopTimeout, cancellationToken);
        await _stopping.CancelAsync();
        await WaitForInFlightAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        logger.LogStopped(intake.Value.QueueName);
    }

    async Task WaitForInFlightAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (Volatile.Read(ref _inFlight) > 0 && time.GetElapsedTime(started) < timeout && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var disposable in new IAsyncDisposable?[] { _consume, _publish, _connection, _publishConnection }.OfType<IAsyncDisposable>())
        {
            await disposable.DisposeAsync();
        }

        _stopping.Dispose();
    }
}
