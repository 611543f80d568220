using System.Collections.Concurrent;
using System.Collections.Frozen;
using IntegrationGateway.Adapters;

namespace IntegrationGateway.Gateway.Delivery;

/// <summary>
/// The recipient directory: every recipient registered (<see cref="RecipientRegistrations.AddRecipient{TAdapter}"/>),
/// its adapter resolved by key when a transfer goes to it and kept for two minutes. A singleton: no DI scope, adapter
/// or HttpClient per transfer.
/// </summary>
public sealed class RecipientAdapters(IServiceProvider services, IEnumerable<RecipientRegistration> registrations)
{
    readonly FrozenSet<string> _ids = registrations.Select(r => r.Id).ToFrozenSet(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, bool> _takesErasureNotices = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, (IRecipientAdapter Adapter, long MadeAt)> _adapters = new(StringComparer.Ordinal);

    /// <summary>
    /// How long an adapter is kept: as long as the client factory keeps a handler (2 minutes), so a renewed client
    /// certificate or CA file on disk is picked up as before, without an adapter and HttpClient per transfer.
    /// </summary>
    internal static readonly TimeSpan AdapterLifetime = TimeSpan.FromMinutes(2);

    public IRecipientAdapter this[string recipient] =>
        _ids.Contains(recipient)
            ? Current(recipient)
            : throw new InvalidOperationException($"no adapter is registered for recipient '{recipient}'");

    /// <summary>
    /// The recipient's adapter, made when first needed and kept for <see cref="AdapterLifetime"/>: not an adapter and
    /// HttpClient per transfer. Then a new one, on the client factory's current handler (certificates read again).
    /// </summary>
    IRecipientAdapter Current(string recipient)
    {
        var now = Environment.TickCount64;
        if (_adapters.TryGetValue(recipient, out var kept) && now - kept.MadeAt < AdapterLifetime.TotalMilliseconds)
        {
            return kept.Adapter;
        }

        var made = services.GetRequiredKeyedService<IRecipientAdapter>(recipient);
        _adapters[recipient] = (made, now);
        return made;
    }

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
