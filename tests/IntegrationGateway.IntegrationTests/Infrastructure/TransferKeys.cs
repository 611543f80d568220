using IntegrationGateway.Adapters;
using IntegrationGateway.AgencySimulator;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Testing;

namespace IntegrationGateway.IntegrationTests.Infrastructure;

/// <summary>
/// What a recipient sees of an event, as the tests' gateways (which all use <see cref="TestServices.LedgerKey"/>)
/// compute it: its own reference (<see cref="LedgerKeys.TransferReference"/>), never the event's id. The tests know
/// the events they published; a receipt names neither, so they find it through its recipient's reference.
/// </summary>
internal static class TransferKeys
{
    static readonly LedgerKeys Keys = LedgerKeys.FromBase64(TestServices.LedgerKey);

    static readonly Lazy<IReadOnlyDictionary<string, string>> RecipientOfAgreement = new(() =>
        AgreementLoader.LoadDirectory(RepoPaths.Agreements).Agreements.ToDictionary(a => a.Id, a => a.Recipient, StringComparer.Ordinal));

    // Tests poll the simulator's receipts for hundreds of events: each (event, recipient) is computed once.
    static readonly System.Collections.Concurrent.ConcurrentDictionary<(Guid, string), string> Prefixes = new();

    /// <summary>The reference <paramref name="recipient"/> gets for the event.</summary>
    public static Guid ReferenceOf(Guid eventId, string recipient) => Keys.TransferReference(eventId, recipient);

    /// <summary>How the recipient's idempotency keys for the event begin: its reference and the colon.</summary>
    static string PrefixOf(Guid eventId, string recipient) =>
        Prefixes.GetOrAdd((eventId, recipient), k => ReferenceOf(k.Item1, k.Item2).ToString("D") + ":");

    /// <summary>The idempotency key the recipient of a shipped agreement gets for the event under it.</summary>
    public static string Of(Guid eventId, string agreementId) => Of(eventId, RecipientOfAgreement.Value[agreementId], agreementId);

    public static string Of(Guid eventId, string recipient, string agreementId) => OutboundTransfer.KeyFor(ReferenceOf(eventId, recipient), agreementId);

    /// <summary>Whether the receipt is of that event (its key carries its recipient's reference for it).</summary>
    public static bool IsOf(this Receipt receipt, Guid eventId) =>
        receipt.IdempotencyKey.StartsWith(PrefixOf(eventId, receipt.Recipient), StringComparison.Ordinal);

    /// <summary>Which of <paramref name="eventIds"/> the receipt is of, if any.</summary>
    public static Guid? EventOf(this Receipt receipt, IEnumerable<Guid> eventIds) =>
        eventIds.Select(e => (Guid?)e).FirstOrDefault(e => receipt.IsOf(e!.Value));

    /// <summary>The receipts of any of <paramref name="eventIds"/>.</summary>
    public static List<Receipt> Of(this IEnumerable<Receipt> receipts, IEnumerable<Guid> eventIds)
    {
        var all = receipts.ToList();
        var ids = eventIds.ToList();
        var prefixes = all.Select(r => r.Recipient).Distinct().SelectMany(recipient => ids.Select(e => PrefixOf(e, recipient))).ToHashSet(StringComparer.Ordinal);
        return [.. all.Where(r => r.IdempotencyKey.IndexOf(':', StringComparison.Ordinal) is >= 0 and var colon && prefixes.Contains(r.IdempotencyKey[..(colon + 1)]))];
    }

    /// <summary>The agreement a receipt came under, as its idempotency key names it.</summary>
    public static string AgreementOf(this Receipt receipt) => receipt.IdempotencyKey[(receipt.IdempotencyKey.IndexOf(':', StringComparison.Ordinal) + 1)..];
}
