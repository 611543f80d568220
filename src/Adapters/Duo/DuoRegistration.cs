using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace IntegrationGateway.Adapters.Duo;

public static class DuoRegistration
{
    /// <summary>Registers the DUO adapter and its typed client, configured from <c>Recipients:Duo</c>.</summary>
    public static IServiceCollection AddDuoAdapter(this IServiceCollection services, IConfiguration configuration) =>
        services.AddHttpRecipient<IDuoClient, DuoClient, DuoOptions, DuoAdapter>(configuration, DuoAdapter.RecipientId, DuoOptions.Section);
}
