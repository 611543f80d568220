using IntegrationGateway.Adapters;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>The registered adapters by recipient id. Scoped: adapters hold typed HttpClients.</summary>
public sealed class RecipientAdapters(IEnumerable<IRecipientAdapter> adapters)
{
    readonly Dictionary<string, IRecipientAdapter> _byRecipient = adapters.ToDictionary(a => a.Recipient, StringComparer.Ordinal);

    public IRecipientAdapter this[string recipient] =>
        _byRecipient.TryGetValue(recipient, out var adapter)
            ? adapter
            : throw new InvalidOperationException($"no adapter is registered for recipient '{recipient}'");

    public IReadOnlyCollection<string> Recipients => _byRecipient.Keys;
}
