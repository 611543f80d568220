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

    /// <summary>Whether the recipient's adapter takes erasure notices; false for a recipient without an adapter.</summary>
    public bool TakesErasureNotices(string recipient) => _byRecipient.TryGetValue(recipient, out var adapter) && adapter.TakesErasureNotices;
}

public static class RecipientAdapterCalls
{
    /// <summary>
    /// One delivery through the adapter, whatever happens inside it: an adapter is not meant to throw, and if one does
    /// (a bug, a token endpoint answering nonsense) that is a transient failure of this transfer alone, to be parked
    /// like any other. The type goes into the problem, not the message, which could quote data.
    /// </summary>
    public static async Task<DeliveryResult> DeliverOrFailAsync(this IRecipientAdapter adapter, OutboundTransfer transfer, CancellationToken cancellationToken)
    {
        try
        {
            return await adapter.DeliverAsync(transfer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return DeliveryResult.Unreachable($"the adapter failed with {ex.GetType().Name}");
        }
    }
}
