namespace IntegrationGateway.Gateway.Hosting;

/// <summary>The gateway's configuration as the service reads it (appsettings.json beside the binary, then the environment), for verbs that need a setting without starting the host.</summary>
public static class GatewayConfiguration
{
    /// <param name="args">Settings given on the command line (<c>--RabbitMq:Port 5672</c>), which win over the rest.</param>
    public static IConfiguration Load(string[]? args = null) => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
        .AddEnvironmentVariables()
        .AddCommandLine(args ?? [])
        .Build();
}
