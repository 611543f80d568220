using Microsoft.Extensions.DependencyInjection;

namespace IntegrationGateway.Adapters;

/// <summary>A recipient the gateway can deliver to: the id agreements name, whose keyed <see cref="IRecipientAdapter"/> delivers.</summary>
public sealed record RecipientRegistration(string Id);

public static class RecipientRegistrations
{
    /// <summary>
    /// Registers <typeparamref name="TAdapter"/> as the keyed adapter of recipient <paramref name="id"/>. Transient in the
    /// container; the gateway keeps each for two minutes (the client factory's handler lifetime), then makes a new one.
    /// </summary>
    public static IServiceCollection AddRecipient<TAdapter>(this IServiceCollection services, string id)
        where TAdapter : class, IRecipientAdapter
    {
        services.AddKeyedTransient<IRecipientAdapter, TAdapter>(id);
        services.AddSingleton(new RecipientRegistration(id));
        return services;
    }

    /// <summary>The same, for an adapter made by hand (one implementation serving several recipients by configuration).</summary>
    public static IServiceCollection AddRecipient(this IServiceCollection services, string id, Func<IServiceProvider, IRecipientAdapter> adapter)
    {
        services.AddKeyedTransient(id, (provider, _) => adapter(provider));
        services.AddSingleton(new RecipientRegistration(id));
        return services;
    }
}
