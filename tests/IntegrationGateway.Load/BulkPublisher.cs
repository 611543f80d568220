using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Intake;
using RabbitMQ.Client;

namespace IntegrationGateway.Load;

/// <summary>One message to publish: where, its bytes, and the few properties the consumers read.</summary>
internal readonly record struct LoadMessage(string Exchange, string RoutingKey, ReadOnlyMemory<byte> Body, string? Type, Guid Id);

/// <summary>
/// Publishes many messages fast and safely: persistent, mandatory, publisher confirms with up to
/// <see cref="Window"/> outstanding, as one broker user (its <c>user_id</c> set, as the intake requires). Each
/// message carries its publish moment in the <c>x-published</c> header (Unix microseconds) for the latency figures.
/// </summary>
internal sealed class BulkPublisher : IAsyncDisposable
{
    public const string PublishedHeader = "x-published";
    const int Window = 512;

    readonly IConnection _connection;
    readonly IChannel _channel;
    readonly string _user;

    BulkPublisher(IConnection connection, IChannel channel, string user)
    {
        _connection = connection;
        _channel = channel;
        _user = user;
    }

    public static async Task<BulkPublisher> ConnectAsync(RabbitMqOptions broker)
    {
        var connection = await RabbitMqConnections.OpenAsync(broker, "integration-gateway-load", CancellationToken.None);
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true, outstandingPublisherConfirmationsRateLimiter: new ThrottlingRateLimiter(Window)));
        return new BulkPublisher(connection, channel, broker.Username);
    }

    public IChannel Channel => _channel;

    /// <summary>
    /// Publishes them all, each as its own publisher's user, confirmed, with up to <see cref="Window"/> unconfirmed
    /// per publisher; when <paramref name="pace"/> is given, message i is not sent before that long after the start.
    /// <paramref name="published"/> gets each one's id and publish moment.
    /// </summary>
    public static async Task PublishAsync(
        IEnumerable<(BulkPublisher Publisher, LoadMessage Message)> messages, TimeProvider time, Action<Guid, DateTimeOffset>? published = null, Func<int, TimeSpan>? pace = null)
    {
        var pending = new Dictionary<BulkPublisher, List<ValueTask>>();
        var started = time.GetTimestamp();
        var i = 0;
        foreach (var (publisher, message) in messages)
        {
            if (pace is not null && pace(i) - time.GetElapsedTime(started) is { Ticks: > 0 } wait)
            {
                await Task.Delay(wait, time);
            }

            if (!pending.TryGetValue(publisher, out var confirms))
            {
                pending[publisher] = confirms = new List<ValueTask>(Window);
            }

            var now = time.GetUtcNow();
            confirms.Add(publisher.SendAsync(message, now));
            published?.Invoke(message.Id, now);
            i++;
            if (confirms.Count >= Window)
            {
                await DrainAsync(confirms);
            }
        }

        foreach (var confirms in pending.Values)
        {
            await DrainAsync(confirms);
        }
    }

    ValueTask SendAsync(LoadMessage message, DateTimeOffset now)
    {
        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = "application/json",
            Type = message.Type,
            MessageId = message.Id.ToString("D"),
            UserId = _user,
            Headers = new Dictionary<string, object?> { [PublishedHeader] = UnixMicroseconds(now) },
        };
        return _channel.BasicPublishAsync(message.Exchange, message.RoutingKey, mandatory: true, properties, message.Body);
    }

    static async Task DrainAsync(List<ValueTask> pending)
    {
        foreach (var confirm in pending)
        {
            await confirm;
        }

        pending.Clear();
    }

    public static long UnixMicroseconds(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static DateTimeOffset FromUnixMicroseconds(long microseconds) => DateTimeOffset.UnixEpoch.AddTicks(microseconds * 10);

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
