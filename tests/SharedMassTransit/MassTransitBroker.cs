using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Intake;
using MassTransit;

namespace IntegrationGateway.Testing;

/// <summary>
/// A MassTransit bus on the broker the gateway's settings name, with the same TLS: the broker's certificate checked
/// as the gateway checks it (<see cref="RabbitMqConnections.Tls"/>), so a publisher in the tests or the load harness
/// connects as a real one would. Linked into the projects that use MassTransit.
/// </summary>
internal static class MassTransitBroker
{
    public static void Host(this IRabbitMqBusFactoryConfigurator rabbit, RabbitMqOptions broker, Action<IRabbitMqHostConfigurator>? configure = null) =>
        rabbit.Host(broker.Host, (ushort)broker.Port, broker.VirtualHost, host =>
        {
            host.Username(broker.Username);
            host.Password(broker.Password);
            var tls = RabbitMqConnections.Tls(broker, broker.Host);
            if (tls.Enabled)
            {
                host.UseSsl(ssl =>
                {
                    ssl.ServerName = tls.ServerName;
                    ssl.Protocol = System.Security.Authentication.SslProtocols.None; // the system's choice: TLS 1.2 or 1.3
                    if (tls.CertificateValidationCallback is { } validate)
                    {
                        ssl.CertificateValidationCallback = validate;
                    }

                    if (tls.Certs is [System.Security.Cryptography.X509Certificates.X509Certificate2 certificate, ..])
                    {
                        ssl.Certificate = certificate;
                        ssl.CertificateSelectionCallback = tls.CertificateSelectionCallback;
                    }
                });
            }

            configure?.Invoke(host);
        });
}
