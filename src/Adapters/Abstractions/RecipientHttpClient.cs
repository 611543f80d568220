using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace IntegrationGateway.Adapters;

public static class RecipientHttpClient
{
    /// <summary>
    /// What every recipient's HTTP client gets, whatever its wire format: the recipient's resilience pipeline
    /// (retries, circuit, timeout per attempt), and inside it each attempt signed (Standard Webhooks) with that
    /// recipient's key. Registered once per recipient, so keys and circuits never cross.
    /// </summary>
    public static IHttpClientBuilder AddRecipientHandlers(this IHttpClientBuilder builder, string recipient, Func<IServiceProvider, HttpRecipientOptions> options) =>
        builder
            .AddHttpMessageHandler(provider => new ResilienceHandler(
                provider.GetRequiredService<RecipientResilience>().For(recipient, options(provider).Timeout)))
            .AddHttpMessageHandler(provider => new StandardWebhooksSigningHandler(
                options(provider).SigningKey(), provider.GetService<TimeProvider>() ?? TimeProvider.System));

    /// <summary>The shared parts: one resilience pipeline per recipient, configured from <c>Delivery</c>.</summary>
    public static IServiceCollection AddRecipientResilience(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RecipientResilienceOptions>().Bind(configuration.GetSection("Delivery")).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RecipientResilience>();
        return services;
    }
}
