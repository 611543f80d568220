using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Storage;
using IntegrationGateway.Gateway.Subjects;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>What the intake made of one message; the transport acknowledges it, quarantines it first, or keeps it.</summary>
public abstract record IntakeResult
{
    /// <summary>
    /// Taken: subject state applied and every transfer settled (or nothing to transfer), or, when <paramref name="Duplicate"/>,
    /// the same event was settled before and nothing was done again. Acknowledge.
    /// </summary>
    public sealed record Accepted(string EventType, Guid EventId, bool Duplicate = false) : IntakeResult;

    /// <summary>Refused, or failing every try: goes to the quarantine with these reasons (path and rule, never a value), then acknowledged.</summary>
    public sealed record Quarantined(string? EventType, Guid? EventId, IReadOnlyList<Violation> Violations) : IntakeResult;

    /// <summary>Not the message's fault (the database was away, and answers again): keep it and try again in place.</summary>
    public sealed record Retry(string Problem) : IntakeResult;
}

/// <summary>
/// The intake's decisions on one message, knowing nothing of RabbitMQ: read and validate it (<see cref="IntakeReader"/>),
/// authenticate its sender (<see cref="ControllerRegistry.Authenticate"/>: the broker-proven <c>user_id</c> must publish
/// for the controller its <c>source.institutionId</c> names, else quarantine as <c>sender-not-authenticated</c>), apply
/// then hand the event to the <see cref="EventProcessor"/>, which takes each event id once: the same event again, once
/// settled, is acknowledged as a duplicate and nothing is sent again; the same id with other content is quarantined
/// as <c>event-id-reused</c> and alerted, and nothing is sent.
/// Unexpected errors are retried (<see cref="IntakeRetries.Processing"/>) and then quarantined as <c>processing</c>;
/// the database being away is waited out (<see cref="DatabaseOutage"/>) and returned as <see cref="IntakeResult.Retry"/>,
/// for the transport to try the message again at once.
/// </summary>
public sealed partial class IntakeHandler(
    IntakeReader reader,
    ControllerRegistry controllers,
    EventProcessor processor,
    DatabaseOutage outage,
    IntakeCounters counters,
    TimeProvider time,
    IOptions<IntakeOptions> intake,
    ILogger<IntakeHandler> logger)
{
    readonly ResiliencePipeline _processing = IntakeRetries.Processing(intake.Value.RetryLimit, time, (eventId, attempt, exception) =>
        logger.LogProcessingFailed(eventId, attempt, exception.GetType().Name, exception.StackTrace));

    /// <param name="message">The bytes and the properties the intake reads.</param>
    /// <param name="headers">The message's headers, for the publisher's trace context only.</param>
    /// <param name="redelivered">Delivered before: a transfer parked then may be delivered now.</param>
    /// <param name="cancellationToken">Cancelled at shutdown: nothing is counted, and the message goes back.</param>
    public async Task<IntakeResult> HandleAsync(IntakeMessage message, IDictionary<string, object?>? headers, bool redelivered, CancellationToken cancellationToken)
    {
        using var span = Telemetry.GatewayTelemetry.StartIntake(intake.Value.QueueName, headers);
        IntakeVerdict verdict;
        try
        {
            verdict = reader.Read(message);
        }
        catch (Exception ex)
        {
            // The reader is built never to throw; if it does, the message is safe in quarantine, not going round.
            logger.LogReadFailed(ex.GetType().Name, ex.StackTrace);
            return Quarantine(null, null, [new Violation("$", "processing")]);
        }

        using var _ = verdict;
        // Only a type the catalogue knows: a publisher's unknown type name is its own text, not a name we chose.
        span?.SetTag(Telemetry.GatewayTelemetry.Tags.EventType, verdict.EventType is { } known && EventCatalogue.Default.Knows(known) ? known : null)
            .SetTag(Telemetry.GatewayTelemetry.Tags.EventId, verdict.EventId?.ToString("D"));
        if (!verdict.Accepted)
        {
            return Quarantine(verdict.EventType, verdict.EventId, verdict.Violations);
        }

        var eventType = verdict.EventType!;
        var eventId = verdict.EventId!.Value;
        if (controllers.Authenticate(message.UserId, EventFacts.InstitutionOf(verdict.Event)) is not { } controller)
        {
            // No value in the reason: which user and which institution stay out of the header, as every value does.
            return Quarantine(eventType, eventId, [new Violation(controllers.ByBrokerUser(message.UserId) is null ? "properties.user_id" : "source.institutionId", SenderNotAuthenticated)]);
        }

        span?.SetTag(Telemetry.GatewayTelemetry.Tags.Controller, controller.Id);
        var kind = EventKinds.Of(eventType);
        var context = IntakeRetries.Context(eventId, cancellationToken);
        var sighting = EventSighting.New;
        try
        {
            using var turn = await processor.TakeTurnAsync(eventId, cancellationToken).ConfigureAwait(false);
            await _processing.ExecuteAsync(async attempt =>
                sighting = await processor.ProcessAsync(eventId, eventType, verdict.Event, controller, redelivered || IntakeRetries.AttemptOf(attempt) > 0, attempt.CancellationToken).ConfigureAwait(false),
                context).ConfigureAwait(false);
        }
        catch (Exception ex) when (IntakeRetries.IsOutage(ex) && !cancellationToken.IsCancellationRequested)
        {
            // Waited out here, with every other handler, on the one probe: back the moment the database answers.
            await outage.WaitUntilBackAsync("intake", ex.GetType().Name, cancellationToken).ConfigureAwait(false);
            return new IntakeResult.Retry(ex.GetType().Name);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            return Quarantine(eventType, eventId, [new Violation("$", "processing")]);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        switch (sighting)
        {
            case EventSighting.Reused:
                // An alert, not a warning: a publisher's bug or someone replaying an id to slip other content through.
                logger.LogEventIdReused(eventId, eventType, controller.Id);
                return Quarantine(eventType, eventId, [new Violation("eventId", EventIdReused)]);
            case EventSighting.Settled:
                counters.CountDuplicate();
                span?.SetTag(Telemetry.GatewayTelemetry.Tags.IntakeOutcome, "duplicate");
                logger.LogDuplicate(eventId, eventType);
                return new IntakeResult.Accepted(eventType, eventId, Duplicate: true);
            default:
                counters.CountAccepted(subjectStateOnly: !kind.Transfers());
                span?.SetTag(Telemetry.GatewayTelemetry.Tags.IntakeOutcome, "accepted");
                return new IntakeResult.Accepted(eventType, eventId);
        }
    }

    /// <summary>The rule of a message whose event id was taken before with other content (or from another controller).</summary>
    public const string EventIdReused = "event-id-reused";

    /// <summary>The rule of a message whose broker user does not publish for the controller its event names, or names no user.</summary>
    public const string SenderNotAuthenticated = "sender-not-authenticated";

    static IntakeResult.Quarantined Quarantine(string? eventType, Guid? eventId, IReadOnlyList<Violation> violations)
    {
        // On the message's intake span: every way into the quarantine passes here.
        System.Diagnostics.Activity.Current?.SetTag(Telemetry.GatewayTelemetry.Tags.IntakeOutcome, "quarantined").SetTag(Telemetry.GatewayTelemetry.Tags.Rule, violations[0].Rule);
        return new IntakeResult.Quarantined(eventType, eventId, violations);
    }
}

/// <summary>
/// Which failure is retried where, written once. <see cref="Processing"/>: an unexpected error while the gateway works
/// on an accepted event is tried again a few times, then the event is quarantined. <see cref="KeepTrying"/>: an outage
/// of the database or the broker (not the message's fault), or a quarantine copy not confirmed, keeps the message,
/// unacknowledged, and tries it again in place with backoff for as long as it lasts: handing it back would count
/// against a quorum queue's delivery limit (RabbitMQ 4 drops or dead-letters a message after 20).
/// </summary>
public static partial class IntakeRetries
{
    static readonly ResiliencePropertyKey<Guid> EventIdKey = new("event-id");
    static readonly ResiliencePropertyKey<int> AttemptKey = new("attempt");

    /// <summary>
    /// The database or the broker is away, or slow: nothing the message did. Of the database's errors only the
    /// transient ones (no connection, a timeout, the server shutting down or refusing connections: Npgsql's
    /// <c>IsTransient</c>); a disk-full, read-only or constraint error is the processing retries' and then the quarantine's.
    /// </summary>
    public static bool IsOutage(Exception exception) =>
        IsDatabaseOutage(exception) || exception is RabbitMQ.Client.Exceptions.AlreadyClosedException
            or RabbitMQ.Client.Exceptions.BrokerUnreachableException or RabbitMQ.Client.Exceptions.OperationInterruptedException;

    /// <summary>The database is away (a transient error of its own, or a timeout): the <see cref="Storage.DatabaseOutage"/>'s case.</summary>
    public static bool IsDatabaseOutage(Exception exception) => exception is Npgsql.NpgsqlException { IsTransient: true } or TimeoutException;

    public static ResilienceContext Context(Guid eventId, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(EventIdKey, eventId);
        return context;
    }

    public static int AttemptOf(ResilienceContext context) => context.Properties.GetValue(AttemptKey, 0);

    /// <summary>Up to <paramref name="retryLimit"/> more tries, 200 ms doubling, for anything but an outage or shutdown.</summary>
    public static ResiliencePipeline Processing(int retryLimit, TimeProvider time, Action<Guid, int, Exception> failed) =>
        new ResiliencePipelineBuilder { TimeProvider = time }.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && !IsOutage(ex) && !args.Context.CancellationToken.IsCancellationRequested),
            MaxRetryAttempts = Math.Max(retryLimit, 0),
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(200),
            UseJitter = false,
            OnRetry = args =>
            {
                // The type and the stack say where; an exception's message may quote the event, so it is not logged.
                failed(args.Context.Properties.GetValue(EventIdKey, Guid.Empty), args.AttemptNumber + 1, args.Outcome.Exception!);
                args.Context.Properties.Set(AttemptKey, args.AttemptNumber + 1);
                return default;
            },
        }).Build();

    /// <summary>
    /// For as long as an outage lasts, until shutdown. The database's was waited out by the handler (the one probe
    /// of <see cref="DatabaseOutage"/>): tried again at once. Anything thrown around the handler (the broker did not
    /// confirm a quarantine copy): 1 s doubling to 30 s, one line for the first wait of the message.
    /// </summary>
    public static ResiliencePipeline<IntakeResult> KeepTrying(TimeProvider time, Action<string, TimeSpan> waiting) =>
        new ResiliencePipelineBuilder<IntakeResult> { TimeProvider = time }.AddRetry(new RetryStrategyOptions<IntakeResult>
        {
            // An outage the handler reported, or anything thrown around it (a quarantine copy the broker did not confirm).
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is IntakeResult.Retry
                || (args.Outcome.Exception is not null && !args.Context.CancellationToken.IsCancellationRequested)),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromSeconds(1),
            MaxDelay = TimeSpan.FromSeconds(30),
            UseJitter = true,
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(args.Outcome.Result is IntakeResult.Retry ? TimeSpan.Zero : null),
            OnRetry = args =>
            {
                if (args.Outcome.Exception is { } exception && args.AttemptNumber == 0)
                {
                    waiting(exception.GetType().Name, args.RetryDelay);
                }

                return default;
            },
        }).Build();
}
