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
