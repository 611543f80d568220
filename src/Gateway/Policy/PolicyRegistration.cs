using IntegrationGateway.Gateway.Hosting;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>Thrown when the agreements cannot be used; the gateway refuses to start and prints every error.</summary>
public sealed class AgreementsInvalidException(IReadOnlyList<AgreementError> errors)
    : Exception("the agreements or controllers are invalid:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
{
    public IReadOnlyList<AgreementError> Errors { get; } = errors;
}

public static class PolicyRegistration
{
    /// <summary>
    /// Loads the agreements once, at start, and registers the policy engine over them. Invalid agreements stop
    /// the start: a gateway never runs on rules it could not read.
    /// </summary>
    public static IServiceCollection AddGatewayPolicy(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(AgreementsOptions.Section).Get<AgreementsOptions>() ?? new AgreementsOptions();
        var controllers = configuration.GetSection(ControllersOptions.Section).Get<ControllersOptions>() ?? new ControllersOptions();
        var (policy, errors) = GatewayPolicy.LoadAndLint(options.Directory, controllers.Directory, EventCatalogue.Default);
        var gatewayUser = configuration[$"{RabbitMqOptions.Section}:Username"];
        if (policy.Controllers.ByBrokerUser(gatewayUser) is { } speaksFor)
        {
            // The gateway's own user writes the quarantine and reads the intake: it must never count as a publisher.
            errors = [.. errors, new AgreementError(speaksFor.SourceFile, speaksFor.LineOf("brokerUsers"), "broker-user", $"'{gatewayUser}' is the gateway's own broker user; it cannot publish for a controller")];
        }

        if (errors.Count > 0)
        {
            throw new AgreementsInvalidException(errors);
        }

        services.AddSingleton(new PolicyEngine(policy.Agreements));
        services.AddSingleton(policy.Controllers);
        services.AddOptions<ControllersOptions>().Bind(configuration.GetSection(ControllersOptions.Section));
        services.AddOptions<AgreementsOptions>().Bind(configuration.GetSection(AgreementsOptions.Section));
        return services;
    }
}
