using IntegrationGateway.Gateway.Hosting;
using System.Security.Cryptography.X509Certificates;
using IntegrationGateway.Adapters;
using RabbitMQ.Client;

namespace IntegrationGateway.Gateway.Intake;

public static class RabbitMqConnections
{
    /// <summary>
    /// A connection factory for the configured broker; the connection recovers on its own after a network failure.
    /// Settings the gateway may not use (a plain connection to another host) are refused by <see cref="Endpoints"/>, for every verb.
    /// </summary>
    static ConnectionFactory Factory(RabbitMqOptions options, string clientName) => new()
    {
        HostName = options.Host,
        Port = options.Port,
        VirtualHost = options.VirtualHost,
        UserName = options.Username,
        Password = options.Password,
        // No Ssl here: each endpoint carries its own (Endpoints), and the factory's would only load the files again.
        ClientProvidedName = clientName,
        AutomaticRecoveryEnabled = true,
        TopologyRecoveryEnabled = true,
        NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
        RequestedHeartbeat = TimeSpan.FromSeconds(30),
    };

    /// <summary>
    /// TLS as <c>RabbitMq:Tls</c> sets it: the broker's certificate checked against the configured CA (or the
    /// machine's trust store) and the server name, and the client certificate offered to that server alone.
    /// </summary>
    public static SslOption Tls(RabbitMqOptions options, string host)
    {
        if (options.Refusal() is { } refusal)
        {
            throw new InvalidOperationException(refusal);
        }

        var tls = options.Tls;
        if (!tls.Enabled)
        {
            return new SslOption { Enabled = false };
        }

        var serverName = tls.ServerName ?? host;
        var ssl = new SslOption { Enabled = true, ServerName = serverName };
        if (tls.CaFile is { } caFile)
        {
            var authority = X509CertificateLoader.LoadCertificateFromFile(caFile);
            ssl.CertificateValidationCallback = (_, certificate, _, errors) => PrivateAuthority.Vouches(authority, certificate, errors);
        }

        if (tls.ClientCertificateFile is { } certificateFile)
        {
            var certificate = X509Certificate2.CreateFromPemFile(certificateFile, tls.ClientKeyFile);
            ssl.Certs = new X509CertificateCollection { certificate };
            ssl.CertificateSelectionCallback = RecipientHttpClient.OnlyTo(serverName, certificate);
        }

        return ssl;
    }

    /// <summary>Every node the settings name (<c>RabbitMq:Host</c>, then <c>:Nodes</c>), each with TLS to its own name.</summary>
    public static IReadOnlyList<AmqpTcpEndpoint> Endpoints(RabbitMqOptions options) =>
        [.. options.Brokers().Select(b => new AmqpTcpEndpoint(b.Host, b.Port, Tls(options, b.Host)))];

    /// <summary>
    /// A connection to whichever node answers first, tried in random order (RabbitMQ.Client's own endpoint resolver);
    /// after a failure it recovers to any of them.
    /// </summary>
    public static Task<IConnection> OpenAsync(RabbitMqOptions options, string clientName, CancellationToken cancellationToken) =>
        Factory(options, clientName).CreateConnectionAsync(Endpoints(options), clientName, cancellationToken);
}

public static partial class RabbitMqConnect
{
    /// <summary>
    /// Retries until the broker answers or <see cref="RabbitMqOptions.StartTimeout"/> has passed: a broker started
    /// alongside the gateway gets time to come up.
    /// </summary>
    public static async Task<IConnection> ConnectAsync(RabbitMqOptions options, string clientName, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            try
            {
                return await RabbitMqConnections.OpenAsync(options, clientName, cancellationToken).ConfigureAwait(false);
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
