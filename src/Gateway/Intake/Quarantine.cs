using System.Globalization;
using System.Text;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Sealing;
using RabbitMQ.Client;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>A message in the quarantine, as its headers describe it; the body stays sealed.</summary>
public sealed record QuarantinedMessage(ulong DeliveryTag, string? EventId, string? EventType, string Rule, string Reasons, string? QuarantinedAt, bool MassTransitEnvelope, byte[] Sealed)
{
    /// <summary>The broker user that published it (its AMQP <c>user_id</c>, proven by the broker then), if it named one.</summary>
    public string? UserId { get; init; }
}

/// <summary>
/// The intake's quarantine, <c>&lt;queue&gt;.quarantine</c>, in one place: the header format (rule and path of the first
/// reason, every reason up to 20, when, the seal, where it came from; never a value), sealing, publishing (mandatory,
/// confirmed), and for the <c>quarantine</c> verbs peeking and republishing. The consumer and the verbs both use it.
/// </summary>
public sealed class Quarantine(IChannel channel, IntakeOptions intake, Sealer seal, TimeProvider time)
{
    public const string RuleHeader = "x-quarantine-rule";
    public const string PathHeader = "x-quarantine-path";
    public const string ReasonsHeader = "x-quarantine-reasons";
    public const string AtHeader = "x-quarantined-at";
    public const string SealedHeader = "x-sealed";
    public const string ExchangeHeader = "x-original-exchange";
    public const string EnvelopeHeader = "x-original-envelope";
    public const string EventTypeHeader = "x-event-type";

    /// <summary>
    /// The publisher's broker user, as RabbitMQ proved it (<c>user_id</c>): a republished message is sent under it again, so
    /// the intake authenticates it as it would have the first time. Only the gateway writes the quarantine, so the header
    /// cannot be forged by a publisher; a broker user name is a system account, not a person.
    /// </summary>
    public const string UserIdHeader = "x-original-user-id";

    public string Queue => IntakeTopology.QuarantineQueue(intake);

    /// <summary>Where a republished message goes: the intake exchange.</summary>
    public string IntakeExchange => IntakeTopology.ExchangeName(intake);

    /// <summary>The quarantine's own sealer (a key derived for it alone).</summary>
    public Sealer Seal { get; } = seal.For(SealingPurposes.Quarantine);

    /// <summary>The reasons as the headers give them: the first 20, and how many more.</summary>
    public static string Reasons(IReadOnlyList<Violation> violations) =>
        string.Join("; ", violations.Take(20)) + (violations.Count > 20 ? $"; and {violations.Count - 20} more" : "");

    /// <summary>
    /// Seals the message into the quarantine, with the reasons in its headers. Returns once the broker confirmed it (an
    /// error otherwise); not cut short by shutdown, which could leave a copy there and the message handed back too, but
    /// bounded. A copy can still be made twice (a confirm lost with the connection): at least once, the event id as id.
    /// </summary>
    public async Task PublishAsync(IntakeMessage message, IntakeResult.Quarantined quarantined)
    {
        var first = quarantined.Violations[0];
        var headers = new Dictionary<string, object?>
        {
            [RuleHeader] = first.Rule,
            [PathHeader] = first.Path,
            [ReasonsHeader] = Reasons(quarantined.Violations),
            [AtHeader] = time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
            [SealedHeader] = $"{Sealer.Algorithm}; key={Seal.KeyId}",
            [ExchangeHeader] = message.Exchange,
            [EnvelopeHeader] = string.Equals(message.ContentType, IntakeReader.MassTransitContentType, StringComparison.OrdinalIgnoreCase) ? "masstransit" : "raw",
        };
        if (quarantined.EventType is { } eventType)
        {
            headers[EventTypeHeader] = eventType;
        }

        if (message.UserId is { Length: > 0 } user)
        {
            headers[UserIdHeader] = user;
        }

        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = "application/octet-stream",
            MessageId = quarantined.EventId?.ToString("D"),
            Headers = headers,
        };
        using var confirm = new CancellationTokenSource(TimeSpan.FromSeconds(30), time);
        await channel.BasicPublishAsync("", Queue, mandatory: true, properties, Seal.Seal(message.Body.Span), confirm.Token).ConfigureAwait(false);
    }

    /// <summary>Every message, held unacknowledged: what is not republished goes back, in order, when the channel closes.</summary>
    public async Task<List<QuarantinedMessage>> PeekAsync(CancellationToken cancellationToken)
    {
        var messages = new List<QuarantinedMessage>();
        while (await channel.BasicGetAsync(Queue, autoAck: false, cancellationToken).ConfigureAwait(false) is { } got)
        {
            var headers = got.BasicProperties.Headers ?? new Dictionary<string, object?>();
            string? Header(string name) => headers.TryGetValue(name, out var value) && value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : null;
            messages.Add(new QuarantinedMessage(
                got.DeliveryTag, got.BasicProperties.MessageId, Header(EventTypeHeader), Header(RuleHeader) ?? "?", Header(ReasonsHeader) ?? "?",
                Header(AtHeader), Header(EnvelopeHeader) == "masstransit", got.Body.ToArray()) { UserId = Header(UserIdHeader) });
        }

        return messages;
    }

    /// <summary>
    /// Back to the intake exchange as it was sent (envelope and all), under its publisher's <c>user_id</c>, confirmed
    /// on <paramref name="publishTo"/>; then off the quarantine. Setting another user's <c>user_id</c> takes a broker user
    /// with the <c>impersonator</c> tag: the republisher (<c>Quarantine:Republisher</c>), which may write to the intake
    /// exchange and nothing else, so the gateway's own broker user never can.
    /// </summary>
    public async Task RepublishAsync(QuarantinedMessage message, string eventType, IChannel publishTo, CancellationToken cancellationToken)
    {
        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = message.MassTransitEnvelope ? IntakeReader.MassTransitContentType : "application/json",
            Type = eventType,
            MessageId = message.EventId,
            UserId = message.UserId,
            Headers = new Dictionary<string, object?> { ["x-republished-from-quarantine"] = message.QuarantinedAt ?? "" },
        };
        await publishTo.BasicPublishAsync(IntakeExchange, "", mandatory: true, properties, Seal.Open(message.Sealed), cancellationToken).ConfigureAwait(false);
        await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A channel with publisher confirms, as quarantining and republishing need.</summary>
    public static Task<IChannel> ConfirmingChannelAsync(IConnection connection, CancellationToken cancellationToken) =>
        connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
}
