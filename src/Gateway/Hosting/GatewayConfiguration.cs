namespace IntegrationGateway.Gateway.Hosting;

/// <summary>
/// The gateway's configuration as the service reads it (appsettings.json beside the binary, then
/// appsettings.{environment}.json, then the environment), for verbs that need a setting without starting the host.
/// </summary>
public static class GatewayConfiguration
{
    /// <param name="args">Settings given on the command line (<c>--RabbitMq:Port 5672</c>, <c>--environment Development</c>), which win over the rest.</param>
    public static IConfiguration Load(string[]? args = null)
    {
        var environment = EnvironmentName(new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args ?? []).Build());
        return new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, $"appsettings.{environment}.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args ?? [])
            .Build();
    }

    /// <summary>
    /// The environment as the web host decides it: <c>--environment</c>, then <c>ASPNETCORE_ENVIRONMENT</c> (which
    /// WebApplication.CreateBuilder lets win over the other), then <c>DOTNET_ENVIRONMENT</c>; Production when none is set.
    /// </summary>
    public static string EnvironmentName(IConfiguration configuration) =>
        configuration["environment"] is { Length: > 0 } given ? given
        : configuration["ASPNETCORE_ENVIRONMENT"] is { Length: > 0 } aspnet ? aspnet
        : configuration["DOTNET_ENVIRONMENT"] is { Length: > 0 } dotnet ? dotnet
        : Environments.Production;

    /// <summary>Why a verb that makes up data (the demo, generated events) may not run here; null in Development.</summary>
    public static string? SyntheticDataRefusal(string verb, string environment) =>
        string.Equals(environment, Environments.Development, StringComparison.OrdinalIgnoreCase)
            ? null
            : $"{verb} sends made-up people to the intake, and from there to real recipients: it runs in the Development environment only (this is '{environment}'). " +
              "Set DOTNET_ENVIRONMENT=Development or pass --environment Development on a machine whose broker and recipients are not real ones (deploy/local/demo.sh does).";
}
