using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace IntegrationGateway.Adapters.DepartementOnderwijs;

/// <summary>Settings of the department's adapter, bound to <c>Recipients:departement-onderwijs</c>.</summary>
public sealed class DepartementOnderwijsOptions : HttpRecipientOptions
{
    public const string Section = "Recipients:" + DepartementOnderwijsAdapter.RecipientId;
}

public static class DepartementOnderwijsRegistration
{
    /// <summary>Registers the department's XML adapter and its typed client.</summary>
    public static IServiceCollection AddDepartementOnderwijsAdapter(this IServiceCollection services, IConfiguration configuration) =>
        services.AddHttpRecipient<IDepartementOnderwijsClient, DepartementOnderwijsClient, DepartementOnderwijsOptions, DepartementOnderwijsAdapter>(
            configuration, DepartementOnderwijsAdapter.RecipientId, DepartementOnderwijsOptions.Section);
}
