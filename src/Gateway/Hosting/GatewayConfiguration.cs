namespace IntegrationGateway.Gateway.Hosting;

/// <summary>The gateway's configuration as the service reads it (appsettings.json beside the binary, then the environment), for verbs that need a setting without starting the host.</summary>
public static class GatewayConfiguration
{
    public static IConfiguration Load() => new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
        .AddEnvironmentVariables()
        .Build();
}
