using IntegrationGateway.Adapters.Clb;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

// In the adapters' own namespace, so the gateway adds it with one line and no using.
namespace IntegrationGateway.Adapters;

public static class ClbRegistration
{
    /// <summary>Registers the CLB's adapter and its Refit client, configured from <c>Recipients:clb</c>.</summary>
    public static IServiceCollection AddClbAdapter(this IServiceCollection services, IConfiguration configuration) =>
        services.AddRefitRecipient<IClbApi, ClbOptions, ClbAdapter>(configuration, ClbAdapter.RecipientId, ClbOptions.Section);
}
