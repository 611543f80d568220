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
    /// <remarks>
    /// Also, when the recipient's options ask for them: an OAuth2 bearer token per attempt (client credentials,
    /// cached, refreshed), and a client certificate for mutual TLS on the connection.
    /// </remarks>
    public static IHttpClientBuilder AddRecipientHandlers(this IHttpClientBuilder builder, string recipient, Func<IServiceProvider, HttpRecipientOptions> options) =>
        builder
            .AddHttpMessageHandler(provider => new ResilienceHandler(
                provider.GetRequiredService<RecipientResilience>().For(recipient, options(provider).Timeout)))
            .AddHttpMessageHandler(provider => options(provider).OAuth is { } oauth
                ? new OAuthHandler(recipient, oauth, provider.GetRequiredService<OAuthTokenCache>())
                : new PassThroughHandler())
            .AddHttpMessageHandler(provider => new StandardWebhooksSigningHandler(
                options(provider).SigningKey(), provider.GetService<TimeProvider>() ?? TimeProvider.System))
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
                if (options(provider) is { ClientCertificateFile: { } file } settings)
                {
                    handler.SslOptions.ClientCertificates =
                    [
                        System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(file, settings.ClientCertificatePassword),
                    ];
                }

                return handler;
            });

    sealed class PassThroughHandler : DelegatingHandler;

    /// <summary>The shared parts: one resilience pipeline per recipient, configured from <c>Delivery</c>.</summary>
    public static IServiceCollection AddRecipientResilience(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RecipientResilienceOptions>().Bind(configuration.GetSection("Delivery")).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RecipientResilience>();
        services.AddSingleton<OAuthTokenCache>();
        services.AddHttpClient(OAuthTokenCache.TokenClient, http => http.Timeout = TimeSpan.FromSeconds(10));
        return services;
    }
}
