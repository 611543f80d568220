using IntegrationGateway.Gateway.Hosting;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>Thrown when the agreements cannot be used; the gateway refuses to start and prints every error.</summary>
public sealed class AgreementsInvalidException(IReadOnlyList<AgreementError> errors)
    : Exception("the agreements are invalid:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)))
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
        var (agreements, errors) = AgreementLinter.LoadAndLint(options.Directory, EventCatalogue.Default);
        if (errors.Count > 0)
        {
            throw new AgreementsInvalidException(errors);
        }

        services.AddSingleton(new PolicyEngine(agreements));
        services.AddOptions<AgreementsOptions>().Bind(configuration.GetSection(AgreementsOptions.Section));
        return services;
    }
}
