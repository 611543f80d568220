using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Adapters.DepartementOnderwijs;

/// <summary>Settings of the department's adapter, bound to <c>Recipients:departement-onderwijs</c>.</summary>
public sealed class DepartementOnderwijsOptions : HttpRecipientOptions
{
    public const string Section = "Recipients:" + DepartementOnderwijsAdapter.RecipientId;
}

public static class DepartementOnderwijsRegistration
{
    /// <summary>Registers the department's XML adapter and its typed client.</summary>
    public static IServiceCollection AddDepartementOnderwijsAdapter(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DepartementOnderwijsOptions>()
            .Bind(configuration.GetSection(DepartementOnderwijsOptions.Section))
            .PostConfigure(o => o.UseSecretsDirectory(configuration[HttpRecipientOptions.SecretsDirectoryKey], DepartementOnderwijsAdapter.RecipientId))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddHttpClient<IDepartementOnderwijsClient, DepartementOnderwijsClient>((provider, http) => provider.GetRequiredService<IOptions<DepartementOnderwijsOptions>>().Value.Apply(http))
            .AddRecipientHandlers(DepartementOnderwijsAdapter.RecipientId, provider => provider.GetRequiredService<IOptions<DepartementOnderwijsOptions>>().Value);
        services.AddTransient<IRecipientAdapter, DepartementOnderwijsAdapter>();
        return services;
    }
}
