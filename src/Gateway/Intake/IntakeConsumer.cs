using System.Diagnostics;
using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Sealing;
using IntegrationGateway.Gateway.Storage;
using IntegrationGateway.Gateway.Subjects;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>
/// Consumes the intake queue with the plain RabbitMQ client, reading each body as bytes so that nothing a
/// publisher sends can break the consumer: the <see cref="IntakeReader"/> decides, then the message is
/// <list type="bullet">
/// <item>handed to the <see cref="TransferPipeline"/> (one DI scope per message: adapters hold typed HttpClients)
/// and acknowledged when every transfer is settled;</item>
/// <item>applied to the subject's state, when it is a consent, objection or erasure, and for a rectification or an
/// erasure handed to the pipeline as well, for the notices to earlier recipients (<see cref="Subjects.SubjectNotices"/>);</item>
/// <item>or quarantined: sealed (<see cref="Sealer"/>) into <c>&lt;queue&gt;.quarantine</c> with the reasons
/// (field path and rule, never a value) in its headers, and counted by rule.</item>
/// </list>
/// A message is acknowledged only after that has happened, and a publish to the quarantine is
/// confirmed by the broker first; so nothing is lost. When the database or the broker fails under it, the message
/// is kept and tried again in place, with backoff. At shutdown no new message is started, those in flight get
/// <see cref="IntakeOptions.StopTimeout"/> to finish, and the rest go back to the queue unacknowledged.
/// </summary>
internal sealed partial class IntakeConsumer(
    IOptions<RabbitMqOptions> broker,
    IOptions<IntakeOptions> intake,
    IntakeReader reader,
    TransferPipeline pipeline,
    ISubjectRegistry subjects,
    Sealer seal,
    IntakeCounters counters,
    TimeProvider time,
    ILogger<IntakeConsumer> logger) : IHostedService, IAsyncDisposable
{
    readonly CancellationTokenSource _stopping = new();
    IConnection? _connection;
    IConnection? _publishConnection;
    AsyncEventingBasicConsumer? _consumer;
    IChannel? _consume;
    IChannel? _publish;
    readonly List<string> _consumerTags = [];
    volatile bool _draining;
    int _inFlight;

    /// <summary>Connected and consuming: what <c>/health/ready</c> reports as <c>rabbitmq</c>.</summary>
    public bool IsConsuming =>
        !_draining && _consumer is { IsRunning: true } && _connection?.IsOpen == true && _consume?.IsOpen == true && _publish?.IsOpen == true;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = intake.Value;
        _connection = await ConnectAsync("integration-gateway", cancellationToken);
        await using (var setup = await _connection.CreateChannelAsync(cancellationToken: cancellationToken))
        {
            await IntakeTopology.DeclareAsync(setup, settings, cancellationToken);
        }

        // Publishing on a connection of its own: when the broker blocks publishers (memory or disk alarm), the
        // consumer can still take and acknowledge messages.
        _publishConnection = await ConnectAsync("integration-gateway-quarantine", cancellationToken);
        _publish = await _publishConnection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        _consume = await _connection.CreateChannelAsync(
            new CreateChannelOptions(false, false, consumerDispatchConcurrency: (ushort)settings.ConcurrentMessageLimit), cancellationToken);
        await _consume.BasicQosAsync(0, (ushort)settings.PrefetchCount, global: false, cancellationToken);
        _consumer = new AsyncEventingBasicConsumer(_consume);
        _consumer.ReceivedAsync += OnReceivedAsync;
        _consumerTags.Add(await _consume.BasicConsumeAsync(settings.QueueName, autoAck: false, _consumer, cancellationToken));

        // Earlier versions held rectifications and erasures in this queue until their notices could be sent: they
        // are taken through the intake now, like new ones. Nothing is put there any more.
        var held = new AsyncEventingBasicConsumer(_consume);
        held.ReceivedAsync += OnReceivedAsync;
        _consumerTags.Add(await _consume.BasicConsumeAsync(IntakeTopology.SubjectRightsQueue(settings), autoAck: false, held, cancellationToken));
        LogConsuming(settings.QueueName, broker.Value.Address, settings.ConcurrentMessageLimit);
    }

    /// <summary>Retries until the broker answers or <see cref="RabbitMqOptions.StartTimeout"/> has passed: a broker started alongside the gateway gets time to come up.</summary>
    async Task<IConnection> ConnectAsync(string clientName, CancellationToken cancellationToken)
    {
        var options = broker.Value;
        var factory = RabbitMqConnections.Factory(options, clientName);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await factory.CreateConnectionAsync(cancellationToken);
            }
            catch (BrokerUnreachableException ex) when (waited.Elapsed + TimeSpan.FromSeconds(1) < options.StartTimeout)
            {
                LogBrokerNotYetReachable(options.Address, ex.InnerException?.Message ?? ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
            }
        }
    }

    async Task OnReceivedAsync(object sender, BasicDeliverEventArgs delivery)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            if (_draining)
            {
                // Delivered ahead of time but not started before shutdown: back to the queue, untouched.
                await SettleAsync(delivery.DeliveryTag, ack: false);
                return;
            }

            var wait = TimeSpan.FromSeconds(1);
            while (true)
            {
                try
                {
                    await HandleAsync(delivery, _stopping.Token);
                    return;
                }
                catch (Exception ex) when (!_stopping.IsCancellationRequested)
                {
                    // The database (parking), the broker's confirm of a quarantine or hold copy, or a channel failed:
                    // not the message's fault. It stays unacknowledged (nothing is lost) and is tried again here, not
                    // handed back: each hand-back counts against the delivery limit a quorum queue may have (RabbitMQ
                    // 4 drops or dead-letters a message after 20), and an outage can last longer than 20 tries.
                    LogRetryInPlace(delivery.DeliveryTag, ex.GetType().Name, wait.TotalSeconds, ex.StackTrace);
                    await Task.Delay(wait, time, _stopping.Token);
                    wait = TimeSpan.FromSeconds(Math.Min(wait.TotalSeconds * 2, 30));
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            await SettleAsync(delivery.DeliveryTag, ack: false);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    async Task HandleAsync(BasicDeliverEventArgs delivery, CancellationToken cancellationToken)
    {
        var properties = delivery.BasicProperties;
        using var span = Telemetry.GatewayTelemetry.StartIntake(intake.Value.QueueName, properties.Headers);
        IntakeVerdict verdict;
        try
        {
            verdict = reader.Read(new IntakeMessage(delivery.Body, properties.ContentType, properties.Type, delivery.Exchange));
        }
        catch (Exception ex)
        {
            // The reader is built never to throw; if it does, the message is safe in quarantine, not going round.
            LogReadFailed(ex.GetType().Name, ex.StackTrace);
            await QuarantineAsync(delivery, null, null, [new Violation("$", "processing")], cancellationToken);
            await SettleAsync(delivery.DeliveryTag, ack: true);
            return;
        }

        using var _ = verdict;
        // Only a type the catalogue knows: a publisher's unknown type name is its own text, not a name we chose.
        span?.SetTag(Telemetry.GatewayTelemetry.Tags.EventType, verdict.EventType is { } type && EventCatalogue.Default.Knows(type) ? type : null)
            .SetTag(Telemetry.GatewayTelemetry.Tags.EventId, verdict.EventId?.ToString("D"));
        if (!verdict.Accepted)
        {
            await QuarantineAsync(delivery, verdict.EventType, verdict.EventId, verdict.Violations, cancellationToken);
        }
        else
        {
            var eventType = verdict.EventType!;
            var kind = EventKinds.Of(eventType);
            var stateOnly = !kind.Transfers();
            var failure = await WithRetriesAsync(verdict.EventId!.Value, async attempt =>
            {
                if (kind.ChangesSubjectState())
                {
                    // Applied first: a later event of this subject is decided on it, whatever happens to the notices.
                    await subjects.ApplyAsync(eventType, verdict.Event, time.GetUtcNow(), cancellationToken);
                }

                if (!stateOnly)
                {
                    await PipelineAsync(verdict, delivery.Redelivered || attempt > 0, cancellationToken);
                }
            }, cancellationToken);
            if (failure is not null)
            {
                await QuarantineAsync(delivery, eventType, verdict.EventId, [failure], cancellationToken);
            }
            else
            {
                counters.CountAccepted(stateOnly);
                span?.SetTag(Telemetry.GatewayTelemetry.Tags.IntakeOutcome, "accepted");
            }
        }

        await SettleAsync(delivery.DeliveryTag, ack: true);
    }

    async Task PipelineAsync(IntakeVerdict verdict, bool redelivered, CancellationToken cancellationToken)
    {
        await pipeline.ProcessAsync(
            verdict.EventId!.Value, EventFacts.Of(verdict.EventType!, verdict.Event), verdict.Event, cancellationToken, redelivered);
    }

    /// <summary>
    /// The gateway's work on an accepted event, retried on an unexpected error; a violation <c>$: processing</c> when
    /// it keeps failing. The database being away is not the event's fault: that is thrown on, and the message kept.
    /// </summary>
    async Task<Violation?> WithRetriesAsync(Guid eventId, Func<int, Task> work, CancellationToken cancellationToken)
    {
        var retries = intake.Value.RetryLimit;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await work(attempt);
                return null;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
            {
                // The database (where transfers are parked) is away: not the event's fault. Keep the message rather
                // than quarantine a good event; it is tried again when the database is back.
                throw;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // The type and the stack say where; an exception's message may quote the event, so it is not logged.
                LogProcessingFailed(eventId, attempt + 1, ex.GetType().Name, ex.StackTrace);
                if (attempt >= retries)
                {
                    return new Violation("$", "processing");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200 * Math.Pow(2, attempt)), time, cancellationToken);
            }
        }
    }

    async Task QuarantineAsync(BasicDeliverEventArgs delivery, string? eventType, Guid? eventId, IReadOnlyList<Violation> violations, CancellationToken cancellationToken)
    {
        var first = violations[0];
        var reasons = string.Join("; ", violations.Take(20)) + (violations.Count > 20 ? $"; and {violations.Count - 20} more" : "");
        var headers = new Dictionary<string, object?>
        {
            ["x-quarantine-rule"] = first.Rule,
            ["x-quarantine-path"] = first.Path,
            ["x-quarantine-reasons"] = reasons,
            ["x-quarantined-at"] = time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["x-sealed"] = $"{Sealer.Algorithm}; key={seal.KeyId}",
            ["x-original-exchange"] = delivery.Exchange,
            ["x-original-envelope"] = string.Equals(delivery.BasicProperties.ContentType, IntakeReader.MassTransitContentType, StringComparison.OrdinalIgnoreCase) ? "masstransit" : "raw",
        };
        if (eventType is not null)
        {
            headers["x-event-type"] = eventType;
        }

        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = "application/octet-stream",
            MessageId = eventId?.ToString("D"),
            Headers = headers,
        };
        await PublishAsync(IntakeTopology.QuarantineQueue(intake.Value), properties, seal.Seal(delivery.Body.Span), cancellationToken);
        counters.CountQuarantined(first.Rule);
        // On the message's intake span: every way into the quarantine passes here.
        System.Diagnostics.Activity.Current?.SetTag(Telemetry.GatewayTelemetry.Tags.IntakeOutcome, "quarantined").SetTag(Telemetry.GatewayTelemetry.Tags.Rule, first.Rule);
        LogQuarantined(eventType ?? "unknown type", eventId, reasons);
    }

    /// <summary>
    /// To a queue of the intake's own, mandatory and confirmed: an error unless the broker has it. The client
    /// tracks confirms per channel and lets handlers publish on it at once (it bounds the outstanding ones). Not cut
    /// short by shutdown, which could leave a copy in the queue and the message handed back too; bounded instead.
    /// A copy can still be made twice (a confirm lost with the connection): the quarantine is at-least-once, with
    /// the event id as message id.
    /// </summary>
    async Task PublishAsync(string queue, BasicProperties properties, byte[] body, CancellationToken cancellationToken)
    {
        using var confirm = new CancellationTokenSource(TimeSpan.FromSeconds(30), time);
        await _publish!.BasicPublishAsync("", queue, mandatory: true, properties, body, confirm.Token);
    }

    async Task SettleAsync(ulong deliveryTag, bool ack)
    {
        try
        {
            if (ack)
            {
                await _consume!.BasicAckAsync(deliveryTag, multiple: false);
            }
            else
            {
                await _consume!.BasicNackAsync(deliveryTag, multiple: false, requeue: true);
            }
        }
        catch (Exception ex) when (ex is AlreadyClosedException or ObjectDisposedException)
        {
            // The channel went with its connection: the broker hands the message out again, and the idempotency
            // key keeps a second delivery from taking effect twice.
            LogSettleLost(deliveryTag);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        try
        {
            foreach (var tag in _consumerTags)
            {
                if (_consume is { IsOpen: true })
                {
                    await _consume.BasicCancelAsync(tag, noWait: false, cancellationToken);
                }
            }
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or OperationCanceledException)
        {
            // Not consuming any more either way; what was delivered is settled below or returned with the channel.
        }

        // Those in flight get time to finish; then their token is cancelled and they hand their message back.
        // The second wait ignores the host's token: the handlers must be done before the channels are disposed.
        await WaitForInFlightAsync(intake.Value.StopTimeout, cancellationToken);
        await _stopping.CancelAsync();
        await WaitForInFlightAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        LogStopped(intake.Value.QueueName);
    }

    async Task WaitForInFlightAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (Volatile.Read(ref _inFlight) > 0 && waited.Elapsed < timeout && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in new[] { _consume, _publish })
        {
            if (channel is not null)
            {
                await channel.DisposeAsync();
            }
        }

        foreach (var connection in new[] { _connection, _publishConnection })
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }

        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming {Queue} at {Broker}, {Concurrency} at a time")]
    partial void LogConsuming(string queue, string broker, int concurrency);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RabbitMQ at {Broker} not reachable yet ({Problem}); trying again")]
    partial void LogBrokerNotYetReachable(string broker, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quarantined a message ({EventType}, event {EventId}): {Reasons}")]
    partial void LogQuarantined(string eventType, Guid? eventId, string reasons);

    [LoggerMessage(Level = LogLevel.Error, Message = "Event {EventId}: processing failed on attempt {Attempt} with {ExceptionType} at {StackTrace}")]
    partial void LogProcessingFailed(Guid eventId, int attempt, string exceptionType, string? stackTrace);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reading a message failed with {ExceptionType} at {StackTrace}; quarantined as 'processing'")]
    partial void LogReadFailed(string exceptionType, string? stackTrace);

    [LoggerMessage(Level = LogLevel.Error, Message = "Message {DeliveryTag}: {ExceptionType}; kept and tried again in {DelaySeconds:0} s, at {StackTrace}")]
    partial void LogRetryInPlace(ulong deliveryTag, string exceptionType, double delaySeconds, string? stackTrace);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {DeliveryTag} could not be settled: its channel closed; the broker will deliver it again")]
    partial void LogSettleLost(ulong deliveryTag);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped consuming {Queue}")]
    partial void LogStopped(string queue);
}
