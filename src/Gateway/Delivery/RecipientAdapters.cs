using System.Collections.Concurrent;
using System.Collections.Frozen;
using IntegrationGateway.Adapters;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>
/// The recipient directory: every recipient registered (<see cref="RecipientRegistrations.AddRecipient{TAdapter}"/>),
/// its adapter resolved by key when a transfer goes out. A singleton: no DI scope and no HttpClient per message,
/// only the adapter of the recipient a transfer is for.
/// </summary>
public sealed class RecipientAdapters(IServiceProvider services, IEnumerable<RecipientRegistration> registrations)
{
    readonly FrozenSet<string> _ids = registrations.Select(r => r.Id).ToFrozenSet(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, bool> _takesErasureNotices = new(StringComparer.Ordinal);

    public IRecipientAdapter this[string recipient] =>
        _ids.Contains(recipient)
            ? services.GetRequiredKeyedService<IRecipientAdapter>(recipient)
            : throw new InvalidOperationException($"no adapter is registered for recipient '{recipient}'");

    public IReadOnlyCollection<string> Recipients => _ids;

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

    /// <summary>Whether the recipient's adapter takes erasure notices; false for a recipient without an adapter.</summary>
    public bool TakesErasureNotices(string recipient) =>
        _ids.Contains(recipient) && _takesErasureNotices.GetOrAdd(recipient, id => this[id].TakesErasureNotices);
}
