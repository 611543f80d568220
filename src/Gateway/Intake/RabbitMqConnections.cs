using IntegrationGateway.Gateway.Hosting;
using RabbitMQ.Client;

namespace IntegrationGateway.Gateway.Intake;

public static class RabbitMqConnections
{
    /// <summary>A connection factory for the configured broker; the connection recovers on its own after a network failure.</summary>
    public static ConnectionFactory Factory(RabbitMqOptions options, string clientName) => new()
    {
        HostName = options.Host,
        Port = options.Port,
        VirtualHost = options.VirtualHost,
        UserName = options.Username,
        Password = options.Password,
        ClientProvidedName = clientName,
        AutomaticRecoveryEnabled = true,
        TopologyRecoveryEnabled = true,
        NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
        RequestedHeartbeat = TimeSpan.FromSeconds(30),
    };
}

public static partial class RabbitMqConnect
{
    /// <summary>
    /// Retries until the broker answers or <see cref="RabbitMqOptions.StartTimeout"/> has passed: a broker started
    /// alongside the gateway gets time to come up.
    /// </summary>
    public static async Task<IConnection> ConnectAsync(RabbitMqOptions options, string clientName, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var factory = RabbitMqConnections.Factory(options, clientName);
        var started = time.GetTimestamp();
        while (true)
        {
            try
            {
                return await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RabbitMQ.Client.Exceptions.BrokerUnreachableException ex) when (time.GetElapsedTime(started) + TimeSpan.FromSeconds(1) < options.StartTimeout)
            {
                LogBrokerNotYetReachable(logger, options.Address, ex.InnerException?.Message ?? ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "RabbitMQ at {Broker} not reachable yet ({Problem}); trying again")]
    static partial void LogBrokerNotYetReachable(ILogger logger, string broker, string problem);
}
