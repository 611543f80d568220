namespace IntegrationGateway.Gateway.Intake;

/// <summary>The intake's log lines: ids, types, rules and places, never a value from a message.</summary>
static partial class IntakeLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "Event {EventId}: processing failed on attempt {Attempt} with {ExceptionType} at {StackTrace}")]
    public static partial void LogProcessingFailed(this ILogger logger, Guid eventId, int attempt, string exceptionType, string? stackTrace);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reading a message failed with {ExceptionType} at {StackTrace}; quarantined as 'processing'")]
    public static partial void LogReadFailed(this ILogger logger, string exceptionType, string? stackTrace);

    [LoggerMessage(Level = LogLevel.Error, Message = "Broker user {Publisher} declared one of its own contract exchanges as another kind: its MassTransit publishes are not bound to the intake until an operator deletes those exchanges (raw JSON to the intake exchange still works)")]
    public static partial void LogPublisherExchangesRefused(this ILogger logger, string publisher);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming {Queue} at {Broker}, {Concurrency} at a time")]
    public static partial void LogConsuming(this ILogger logger, string queue, string broker, int concurrency);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quarantined a message ({EventType}, event {EventId}): {Reasons}")]
    public static partial void LogQuarantined(this ILogger logger, string eventType, Guid? eventId, string reasons);

    [LoggerMessage(Level = LogLevel.Error, Message = "A message is kept and tried again in {DelaySeconds:0.#} s, and on until it goes through: {Problem} (the broker is away; not the message's fault)")]
    public static partial void LogKeptForRetry(this ILogger logger, string problem, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {DeliveryTag} could not be settled: its channel closed; the broker will deliver it again")]
    public static partial void LogSettleLost(this ILogger logger, ulong deliveryTag);

    [LoggerMessage(Level = LogLevel.Critical, Message = "ALERT: event {EventId} ({EventType}) from {Controller} reuses an id taken before with other content; quarantined as 'event-id-reused', nothing sent. A publisher's bug, or an attempt to slip other content under a known id: ask the controller")]
    public static partial void LogEventIdReused(this ILogger logger, Guid eventId, string eventType, string controller);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} ({EventType}) was published again; it was settled before: acknowledged, nothing sent again")]
    public static partial void LogDuplicate(this ILogger logger, Guid eventId, string eventType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped consuming {Queue}")]
    public static partial void LogStopped(this ILogger logger, string queue);
}
