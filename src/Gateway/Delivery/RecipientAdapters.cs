using System.Collections.Concurrent;
using System.Collections.Frozen;
using IntegrationGateway.Adapters;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>
/// The recipient directory: every recipient registered (<see cref="RecipientRegistrations.AddRecipient{TAdapter}"/>),
/// its adapter resolved by key the first time a transfer goes to it, then kept. A singleton: no DI scope, adapter or
/// HttpClient per transfer.
/// </summary>
public sealed class RecipientAdapters(IServiceProvider services, IEnumerable<RecipientRegistration> registrations)
{
    readonly FrozenSet<string> _ids = registrations.Select(r => r.Id).ToFrozenSet(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, bool> _takesErasureNotices = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, IRecipientAdapter> _adapters = new(StringComparer.Ordinal);

    public IRecipientAdapter this[string recipient] =>
        _ids.Contains(recipient)
            // One adapter (and HttpClient) per recipient for the process's life, made when first needed: not a client per
            // transfer. Its handler's pooled connections are renewed every few minutes (DNS changes are picked up).
            ? _adapters.GetOrAdd(recipient, static (id, services) => services.GetRequiredKeyedService<IRecipientAdapter>(id), services)
            : throw new InvalidOperationException($"no adapter is registered for recipient '{recipient}'");

    public IReadOnlyCollection<string> Recipients => _ids;

    /// <summary>Each recipient's health as first attempts see it: which are failing or slow now.</summary>
    public RecipientBulkhead Bulkhead { get; } = new();

    /// <summary>
    /// One delivery through the recipient's adapter, whatever happens inside it, its making included: an adapter is not
    /// meant to throw, and if one does (a bug, a client that cannot be built, a token endpoint answering nonsense) that
    /// is a transient failure of this transfer alone, to be parked like any other. The type goes into the problem, not
    /// the message, which could quote data.
    /// </summary>
    public async Task<DeliveryResult> DeliverOrFailAsync(string recipient, OutboundTransfer transfer, CancellationToken cancellationToken)
    {
        try
        {
            return await this[recipient].DeliverAsync(transfer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return DeliveryResult.Unreachable($"the adapter failed with {ex.GetType().Name}");
        }
    }

    /// <summary>
    /// Whether the recipient's adapter takes erasure notices; false for a recipient without an adapter. An adapter that
    /// cannot be made now is taken to take them: the notice is decided and its delivery fails and parks like any
    /// transfer, rather than the whole erasure failing (or the notice being recorded as not supported).
    /// </summary>
    public bool TakesErasureNotices(string recipient)
    {
        if (!_ids.Contains(recipient))
        {
            return false;
        }

        if (_takesErasureNotices.TryGetValue(recipient, out var known))
        {
            return known;
        }

        try
        {
            return _takesErasureNotices.GetOrAdd(recipient, this[recipient].TakesErasureNotices);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return true; // not cached: asked again once the adapter can be made
        }
    }
}
