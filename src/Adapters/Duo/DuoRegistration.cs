using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Adapters.Duo;

public static class DuoRegistration
{
    /// <summary>Registers the DUO adapter and its typed client, configured from <c>Recipients:Duo</c>.</summary>
    public static IServiceCollection AddDuoAdapter(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DuoOptions>()
            .Bind(configuration.GetSection(DuoOptions.Section))
            .PostConfigure(o => o.UseSecretsDirectory(configuration[HttpRecipientOptions.SecretsDirectoryKey], DuoAdapter.RecipientId))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddHttpClient<IDuoClient, DuoClient>((provider, http) => provider.GetRequiredService<IOptions<DuoOptions>>().Value.Apply(http))
            .AddRecipientHandlers(DuoAdapter.RecipientId, provider => provider.GetRequiredService<IOptions<DuoOptions>>().Value);
        // Transient: typed HttpClients are cheap and must not be captured by a singleton (handler rotation).
        services.AddTransient<IRecipientAdapter, DuoAdapter>();
        return services;
    }
}
