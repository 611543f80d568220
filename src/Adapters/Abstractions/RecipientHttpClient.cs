using Refit;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
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
    public static IHttpClientBuilder AddRecipientHandlers(this IHttpClientBuilder builder, string recipient, Func<IServiceProvider, HttpRecipientOptions> options)
    {
        builder.AddResilienceHandler($"recipient:{recipient}", (pipeline, context) =>
            context.ServiceProvider.GetRequiredService<RecipientResilience>().Configure(pipeline, recipient, options(context.ServiceProvider).Timeout));
        // No per-request logging handlers: a line and a scope per transfer would cost more than the rest of the call;
        // the settler logs what matters (failures, parking) and the ledger and metrics hold every delivery.
        return builder
            .RemoveAllLoggers()
            .AddHttpMessageHandler(() => new BodyWithinAttemptHandler())
            .AddHttpMessageHandler(provider => options(provider).OAuth is { } oauth
                ? new OAuthHandler(recipient, oauth, provider.GetRequiredService<OAuthTokenCache>())
                : new PassThroughHandler())
            .AddHttpMessageHandler(provider => new StandardWebhooksSigningHandler(
                options(provider).SigningKey(), provider.GetService<TimeProvider>() ?? TimeProvider.System))
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var handler = ToAnotherParty();
                var settings = options(provider);
                if (settings.ClientCertificateFile is { } file)
                {
                    var clientCertificate = X509CertificateLoader.LoadPkcs12FromFile(file, settings.ClientCertificatePassword);
                    handler.SslOptions.LocalCertificateSelectionCallback = OnlyTo(settings.BaseUrl!.IdnHost, clientCertificate);
                }

                if (settings.ServerCertificateAuthorityFile is { } authorityFile)
                {
                    var authority = X509CertificateLoader.LoadCertificateFromFile(authorityFile);
                    handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => PrivateAuthority.Vouches(authority, certificate, errors);
                }

                return handler;
            });
    }

    sealed class PassThroughHandler : DelegatingHandler;

    /// <summary>
    /// The connection to another party (a recipient, its token endpoint). No redirects: a 3xx is the recipient's answer
    /// (rejected), never a reason to send the signed payload, or the client certificate, to another address. And no
    /// trace context: a <c>traceparent</c> names the event's trace (the publisher's, when it sent one), the same at
    /// every recipient of the event, so two recipients could join their records of it by it, the very join their
    /// references (<c>OutboundTransfer.KeyFor</c>) prevent. The gateway's own spans of the call are kept.
    /// </summary>
    static SocketsHttpHandler ToAnotherParty() => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AllowAutoRedirect = false,
        // Not null: null takes the runtime's HTTP span away too, and the gateway's trace keeps each call.
        ActivityHeadersPropagator = System.Diagnostics.DistributedContextPropagator.CreateNoOutputPropagator(),
    };

    /// <summary>
    /// Offers the recipient's client certificate to the recipient's own host and to no other (a host the client was
    /// pointed at by mistake, or by an answer, learns nothing of it), whatever issuers the server lists: an
    /// agency's private CA is often not among them.
    /// </summary>
    public static LocalCertificateSelectionCallback OnlyTo(string host, X509Certificate2 certificate) =>
        (_, targetHost, _, _, _) => string.Equals(targetHost.TrimEnd('.'), host.TrimEnd('.'), StringComparison.OrdinalIgnoreCase) ? certificate : null!;

    /// <summary>
    /// A recipient with an adapter of its own: its options bound from <paramref name="section"/> (falling back to the
    /// secrets directory for its signing secret) and checked at start, its typed client with every shared handler,
    /// and the adapter. What stays in the recipient's folder is its mapping and client.
    /// </summary>
    public static IServiceCollection AddHttpRecipient<TClient, TClientImplementation, TOptions, TAdapter>(
        this IServiceCollection services, IConfiguration configuration, string recipient, string section)
        where TClient : class
        where TClientImplementation : class, TClient
        where TOptions : HttpRecipientOptions
        where TAdapter : class, IRecipientAdapter
    {
        services.AddRecipientOptions<TOptions>(configuration, recipient, section)
            .AddHttpClient<TClient, TClientImplementation>((provider, http) => OptionsOf<TOptions>(provider).Apply(http))
            .AddRecipientHandlers(recipient, OptionsOf<TOptions>);
        return services.AddRecipient<TAdapter>(recipient);
    }

    /// <summary>
    /// A recipient whose API its folder declares as a Refit interface <typeparamref name="TApi"/>: its options bound from
    /// <paramref name="section"/> and checked at start, the generated client with every shared handler (resilience,
    /// OAuth, signing, mutual TLS), and the adapter, keyed by <paramref name="recipient"/>.
    /// </summary>
    public static IServiceCollection AddRefitRecipient<TApi, TOptions, TAdapter>(
        this IServiceCollection services, IConfiguration configuration, string recipient, string section)
        where TApi : class
        where TOptions : HttpRecipientOptions
        where TAdapter : class, IRecipientAdapter
    {
        services.AddRecipientOptions<TOptions>(configuration, recipient, section)
            .AddRefitGeneratedClient<TApi>() // the source-generated client: no reflection at run time
            .ConfigureHttpClient((provider, http) => OptionsOf<TOptions>(provider).Apply(http))
            .AddRecipientHandlers(recipient, OptionsOf<TOptions>);
        return services.AddRecipient<TAdapter>(recipient);
    }

    /// <summary>A recipient's options bound from its section (its signing secret falling back to the secrets directory), checked at start.</summary>
    static IServiceCollection AddRecipientOptions<TOptions>(this IServiceCollection services, IConfiguration configuration, string recipient, string section)
        where TOptions : HttpRecipientOptions
    {
        services.AddOptions<TOptions>()
            .Bind(configuration.GetSection(section))
            .PostConfigure(o => o.UseSecretsDirectory(configuration[HttpRecipientOptions.SecretsDirectoryKey], recipient))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        return services;
    }

    static TOptions OptionsOf<TOptions>(IServiceProvider provider)
        where TOptions : HttpRecipientOptions => provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<TOptions>>().Value;

    /// <summary>The shared parts: one resilience pipeline per recipient, configured from <c>Delivery</c>.</summary>
    public static IServiceCollection AddRecipientResilience(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RecipientResilienceOptions>().Bind(configuration.GetSection("Delivery")).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RecipientResilience>();
        services.AddSingleton<OAuthTokenCache>();
        services.AddHttpClient(OAuthTokenCache.TokenClient, http =>
        {
            http.Timeout = TimeSpan.FromSeconds(10);
            // A token response is a few hundred bytes; a larger one fails the token request, not the process.
            http.MaxResponseContentBufferSize = 64 * 1024;
        }).ConfigurePrimaryHttpMessageHandler(ToAnotherParty);
        return services;
    }
}
