using IntegrationGateway.Adapters;
using IntegrationGateway.Adapters.DepartementOnderwijs;
using IntegrationGateway.Adapters.Duo;
using IntegrationGateway.Adapters.Json;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Gateway.Delivery;

public static class DeliveryRegistration
{
    /// <summary>Every recipient adapter, one line each, and the pipeline that uses them.</summary>
    public static IServiceCollection AddRecipientAdapters(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRecipientResilience(configuration);
        services.AddDuoAdapter(configuration);
        services.AddDepartementOnderwijsAdapter(configuration);
        services.AddClbAdapter(configuration);
        services.AddJsonRecipients(configuration);

        services.AddOptions<DeliveryOptions>().Bind(configuration.GetSection(DeliveryOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RecipientAdapters>();
        services.AddSingleton<DeliveryLog>();
        services.AddSingleton<TransferSettler>();
        services.AddSingleton<TransferDecisions>();
        services.AddSingleton<TransferPipeline>();
        services.AddSingleton<TransferCounters>();
        services.AddSingleton<ParkedTransferScheduler>();
        services.AddHostedService(provider => provider.GetRequiredService<ParkedTransferScheduler>());
        return services;
    }

    /// <summary>Every agreement must name a recipient the gateway can deliver to; checked before the bus starts.</summary>
    public static void EnsureEveryRecipientHasAnAdapter(this IServiceProvider services)
    {
        var known = services.GetRequiredService<RecipientAdapters>().Recipients;
        var errors = services.GetRequiredService<PolicyEngine>().Agreements
            .Where(a => !known.Contains(a.Recipient))
            .Select(a => new AgreementError(a.SourceFile, 1, "unknown-recipient",
                $"recipient '{a.Recipient}' has no adapter; known recipients: {string.Join(", ", known.Order(StringComparer.Ordinal))}"))
            .ToList();
        if (errors.Count > 0)
        {
            throw new AgreementsInvalidException(errors);
        }
    }
}
