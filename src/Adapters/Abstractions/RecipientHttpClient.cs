using Microsoft.Extensions.DependencyInjection;

namespace IntegrationGateway.Adapters;

public static class RecipientHttpClient
{
    /// <summary>
    /// What every recipient's HTTP client gets, whatever its wire format: each attempt signed (Standard Webhooks)
    /// with that recipient's key. Registered once per recipient, so keys never cross.
    /// </summary>
    public static IHttpClientBuilder AddRecipientHandlers(this IHttpClientBuilder builder, Func<IServiceProvider, HttpRecipientOptions> options) =>
        builder.AddHttpMessageHandler(provider => new StandardWebhooksSigningHandler(
            options(provider).SigningKey(), provider.GetService<TimeProvider>() ?? TimeProvider.System));
}
