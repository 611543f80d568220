using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Adapters.Json;

public static class JsonRecipientRegistration
{
    /// <summary>
    /// Registers an adapter for every entry under <c>Recipients</c> whose <c>Format</c> is <c>json</c>; the entry's key
    /// is the recipient id that agreements name.
    /// </summary>
    public static IServiceCollection AddJsonRecipients(this IServiceCollection services, IConfiguration configuration)
    {
        foreach (var section in configuration.GetSection("Recipients").GetChildren())
        {
            if (string.Equals(section["Format"], JsonRecipientOptions.Format, StringComparison.OrdinalIgnoreCase))
            {
                services.AddJsonRecipient(section.Key, section);
            }
        }

        return services;
    }

    static void AddJsonRecipient(this IServiceCollection services, string recipient, IConfigurationSection section)
    {
        services.AddOptions<JsonRecipientOptions>(recipient)
            .Bind(section)
            .PostConfigure<IConfiguration>((o, configuration) => o.UseSecretsDirectory(configuration[HttpRecipientOptions.SecretsDirectoryKey], recipient))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var clientName = $"recipient:{recipient}";
        services.AddHttpClient(clientName, (provider, http) => provider.GetRequiredService<IOptionsMonitor<JsonRecipientOptions>>().Get(recipient).Apply(http))
            .AddRecipientHandlers(recipient, provider => provider.GetRequiredService<IOptionsMonitor<JsonRecipientOptions>>().Get(recipient));

        // An HttpClient from the factory per use keeps handler rotation working.
        services.AddRecipient(recipient, provider => new JsonRecipientAdapter(
            recipient,
            provider.GetRequiredService<IHttpClientFactory>().CreateClient(clientName),
            provider.GetRequiredService<IOptionsMonitor<JsonRecipientOptions>>().Get(recipient)));
    }
}
