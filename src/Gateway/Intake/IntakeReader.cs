using System.Text.Json;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>A message as the broker delivered it: the body and the few properties the intake looks at.</summary>
/// <param name="Body">The bytes as published.</param>
/// <param name="ContentType">AMQP <c>content_type</c>: MassTransit's envelope is <see cref="IntakeReader.MassTransitContentType"/>; anything else is read as raw JSON.</param>
/// <param name="Type">AMQP <c>type</c>: the event type, as <c>AbsenceReported</c> or <c>urn:message:IntegrationGateway.Contracts:AbsenceReported</c>.</param>
/// <param name="Exchange">The exchange it was published to; a contract exchange names the type too.</param>
/// <param name="UserId">AMQP <c>user_id</c>: the broker user that published it. RabbitMQ refuses a publish whose
/// <c>user_id</c> is not the connection's own user, so a value here is proven; none means the publisher did not say.</param>
public readonly record struct IntakeMessage(ReadOnlyMemory<byte> Body, string? ContentType, string? Type, string? Exchange, string? UserId = null);

/// <summary>
/// The intake's reading of a message: which event type, the event itself (unwrapped from MassTransit's envelope),
/// and why it is refused, if it is. Owns the parsed document: dispose it.
/// </summary>
public sealed class IntakeVerdict : IDisposable
{
    readonly JsonDocument? _document;

    internal IntakeVerdict(string? eventType, JsonDocument? document, JsonElement @event, IReadOnlyList<Violation> violations)
    {
        EventType = eventType;
        _document = document;
        Event = @event;
        Violations = violations;
    }

    /// <summary>A known event type, or null when none could be told.</summary>
    public string? EventType { get; }

    /// <summary>The event's JSON; meaningful only when <see cref="Accepted"/>.</summary>
    public JsonElement Event { get; }

    public IReadOnlyList<Violation> Violations { get; }

    public bool Accepted => Violations.Count == 0;

    /// <summary>The event id, when the message got far enough to carry a well-formed one: a UUID is no personal value.</summary>
    public Guid? EventId =>
        _document is not null && Event.ValueKind == JsonValueKind.Object && Event.TryGetProperty("eventId", out var id)
        && id.ValueKind == JsonValueKind.String && id.TryGetGuid(out var guid) ? guid : null;

    public void Dispose() => _document?.Dispose();
}

/// <summary>
/// Reads what publishers send: MassTransit's envelope (the type from its <c>messageType</c> URNs, the event from
/// its <c>message</c>) or raw JSON (the type from the AMQP <c>type</c> property, or from the contract exchange it
/// was published to). Then the <see cref="EventValidator"/>'s verdict on the event. Never throws on bad input.
/// </summary>
public sealed class IntakeReader(EventValidator validator)
{
    public const string MassTransitContentType = "application/vnd.masstransit+json";

    const string UrnPrefix = "urn:message:" + IntakeTopology.ContractsNamespace + ":";
    const string ExchangePrefix = IntakeTopology.ContractsNamespace + ":";

    public IntakeVerdict Read(IntakeMessage message)
    {
        var envelope = string.Equals(message.ContentType, MassTransitContentType, StringComparison.OrdinalIgnoreCase);
        var named = TypeFrom(message.Type, UrnPrefix) ?? TypeFrom(message.Type, "");
        if (message.Type is { Length: > 0 } && named is null)
        {
            return Refused(null, "$", "unknown-type");
        }

        var fromExchange = TypeFrom(IntakeTopology.WithoutPublisher(message.Exchange), ExchangePrefix);
        if (named is not null && fromExchange is not null && named != fromExchange)
        {
            return Refused(null, "$", "type-conflict");
        }

        var eventType = named ?? fromExchange;
        if (!envelope && eventType is null)
        {
            return Refused(null, "$", "missing-type");
        }

        var document = validator.Parse(message.Body.Span, out var violation);
        if (document is null)
        {
            return Refused(eventType, violation!.Path, violation.Rule);
        }

        var @event = document.RootElement;
        if (envelope)
        {
            if (@event.ValueKind != JsonValueKind.Object || !@event.TryGetProperty("message", out @event) || @event.ValueKind != JsonValueKind.Object)
            {
                return Refused(document, eventType, "message", "envelope");
            }

            var inEnvelope = EnvelopeType(document.RootElement, out var unknown);
            if (unknown && inEnvelope is null && eventType is null)
            {
                return Refused(document, null, "messageType", "unknown-type");
            }

            if (inEnvelope is not null && eventType is not null && inEnvelope != eventType)
            {
                return Refused(document, null, "messageType", "type-conflict");
            }

            eventType ??= inEnvelope;
            if (eventType is null)
            {
                return Refused(document, null, "messageType", "missing-type");
            }

            if (EventValidator.WithDecimalStringsAsNumbers(eventType, @event) is { } rewritten)
            {
                document.Dispose();
                document = validator.Parse(rewritten, out violation);
                if (document is null)
                {
                    return Refused(eventType, violation!.Path, violation.Rule);
                }

                @event = document.RootElement;
            }
        }

        return new IntakeVerdict(eventType, document, @event, validator.Validate(eventType!, @event));
    }

    /// <summary>The first of the envelope's message-type URNs that names a contract; <paramref name="unknown"/> when it lists only others.</summary>
    static string? EnvelopeType(JsonElement envelope, out bool unknown)
    {
        unknown = false;
        if (!envelope.TryGetProperty("messageType", out var types) || types.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var urn in types.EnumerateArray())
        {
            if (TypeFrom(urn.ValueKind == JsonValueKind.String ? urn.GetString() : null, UrnPrefix) is { } eventType)
            {
                return eventType;
            }

            unknown = true;
        }

        return null;
    }

    /// <summary>The event type <paramref name="text"/> names after <paramref name="prefix"/>, when it is a known one.</summary>
    static string? TypeFrom(string? text, string prefix) =>
        text is not null && text.StartsWith(prefix, StringComparison.Ordinal)
        && EventCatalogue.Default.Types.ContainsKey(text[prefix.Length..]) ? text[prefix.Length..] : null;

    static IntakeVerdict Refused(string? eventType, string path, string rule) => Refused(null, eventType, path, rule);

    static IntakeVerdict Refused(JsonDocument? document, string? eventType, string path, string rule) =>
        new(eventType, document, document?.RootElement ?? default, [new Violation(path, rule)]);
}
