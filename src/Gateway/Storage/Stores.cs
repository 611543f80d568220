using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Gateway.Storage;

// The small interfaces the intake handler, the pipeline, the settler and the scheduler see of their storage. The
// gateway binds them to PostgreSQL; the component tests to in-memory stores, so that tier runs with no database.

/// <summary>Transfers that could not be delivered now, kept durably until they are (<see cref="ParkedTransfers"/>).</summary>
public interface ITransferStore
{
    /// <summary>
    /// Parks a transfer, or updates the one of the same idempotency key: never two rows for one transfer. Under the
    /// transfer's <see cref="ParkedTransfer.LeaseId"/> when it has one (its first attempt still in flight), else free.
    /// </summary>
    Task ParkAsync(ParkedTransfer parked, CancellationToken cancellationToken);

    /// <summary>Takes up to <paramref name="limit"/> due transfers under a new lease, skipping disabled recipients.</summary>
    Task<IReadOnlyList<ParkedTransfer>> ClaimDueAsync(int limit, TimeSpan lease, IReadOnlyCollection<string> disabledRecipients, CancellationToken cancellationToken);

    /// <summary>Delivered or decided against: it leaves the store (only while <paramref name="lease"/> is still its own, when given).</summary>
    Task RemoveAsync(string idempotencyKey, CancellationToken cancellationToken, Guid? lease = null);

    /// <summary>After an attempt that did not deliver: the new state and when to try next, while the lease is still its own.</summary>
    Task UpdateAsync(string idempotencyKey, string state, DateTimeOffset nextAttemptAt, int? status, string? problem, Guid lease, CancellationToken cancellationToken);

    /// <summary>A claimed transfer put back untried in a held <paramref name="state"/> (awaiting approval): no attempt counted.</summary>
    Task HoldAsync(string idempotencyKey, string state, string problem, Guid lease, CancellationToken cancellationToken);

    /// <summary>Claimed transfers not tried (their recipient fails): due again at <paramref name="nextAttemptAt"/>.</summary>
    Task GiveBackAsync(IEnumerable<string> idempotencyKeys, Guid lease, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken);

    /// <summary>The leases of gateways gone for longer than <paramref name="grace"/> become due now; returns how many transfers were taken over.</summary>
    Task<int> ReclaimAsync(TimeSpan grace, CancellationToken cancellationToken);
}

/// <summary>Which recipients' routes are disabled (<see cref="RecipientRoutes"/>).</summary>
public interface IRecipientRoutes
{
    Task<IReadOnlySet<string>> DisabledAsync(CancellationToken cancellationToken);

    /// <summary>Disables the route and raises the alert.</summary>
    Task DisableAsync(string recipient, string reason, CancellationToken cancellationToken);

    Task<bool> EnableAsync(string recipient, CancellationToken cancellationToken);
}

/// <summary>The ledger as the hot path writes it: entries durably committed, chained, when the task completes (<see cref="LedgerWriter"/>).</summary>
public interface ITransferLedger
{
    /// <summary>Commits the entries; the task completes once they are committed.</summary>
    /// <param name="entries">Decisions and outcomes, in order.</param>
    /// <param name="cancellationToken">Stops the wait, not the commit.</param>
    /// <param name="settles">
    /// The event whose transfers these entries settle: its intake record (<see cref="IEventRegister"/>) is marked
    /// settled in the same commit, so "settled" and "in the ledger" are one fact and one round trip, not two.
    /// </param>
    Task AppendAsync(IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken, Guid? settles = null);
}

/// <summary>
/// What subjects said (consent, objection, erasure) to each controller, by pseudonym (<see cref="Subjects.SubjectStates"/>):
/// each controller decides about its own processing, so what is said to one decides that one's transfers only.
/// </summary>
public interface ISubjectRegistry
{
    /// <summary>Applies a data-subject event (<c>ConsentChanged</c>, <c>ObjectionLodged</c>, <c>ErasureRequested</c>) the controller sent.</summary>
    Task ApplyAsync(string controller, string eventType, System.Text.Json.JsonElement body, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The subject known by these pseudonyms to the controller, merged toward stopping; unknown when nothing was said to it.</summary>
    Task<SubjectState> ForAsync(string controller, byte[][] pseudonyms, CancellationToken cancellationToken);
}

/// <summary>Who received a subject's data, from the ledger (<see cref="Subjects.SubjectReport"/>): what notices are owed to.</summary>
public interface ISubjectHistory
{
    /// <param name="controller">Only this controller's transfers; null: every controller's (the platform DPO's answer).</param>
    /// <param name="pseudonyms">Any of the subject's pseudonyms.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    Task<IReadOnlyList<Subjects.SubjectTransfer>> TransfersAsync(string? controller, IReadOnlyList<byte[]> pseudonyms, CancellationToken cancellationToken);
}

/// <summary>What the intake knew of an event id before this message (<see cref="IEventRegister.SeeAsync"/>).</summary>
public enum EventSighting
{
    /// <summary>Never seen: work on it.</summary>
    New,

    /// <summary>Seen with the same content, not yet settled (a redelivery after a crash or a shutdown): work on it again.</summary>
    Unsettled,

    /// <summary>Seen with the same content and settled: a duplicate publish. Nothing more to do.</summary>
    Settled,

    /// <summary>Seen with other content (or from another controller): the id is reused. Nothing is sent.</summary>
    Reused,
}

/// <summary>
/// The intake's memory of every event id it took (<see cref="IntakeEvents"/>): a keyed hash of its content
/// (<see cref="LedgerKeys.ContentOf"/>) and whether its transfers were settled; never the content itself.
/// </summary>
public interface IEventRegister
{
    /// <summary>Records the id with its content hash if it is new; says what was known of it otherwise.</summary>
    Task<EventSighting> SeeAsync(Guid eventId, string controller, byte[] contentHash, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Every transfer of the event is settled and in the ledger: the same event published again is a duplicate.</summary>
    Task SettledAsync(Guid eventId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="SeeAsync"/>, and what the subject (by these pseudonyms) has said to the controller, as
    /// <see cref="ISubjectRegistry.ForAsync"/> reads it: for an event the policy decides on at once. PostgreSQL answers
    /// both in one round trip.
    /// </summary>
    async Task<(EventSighting Sighting, Policy.SubjectState Subject)> SeeWithSubjectAsync(
        Guid eventId, string controller, byte[] contentHash, DateTimeOffset now, ISubjectRegistry subjects, byte[][] pseudonyms, CancellationToken cancellationToken) =>
        (await SeeAsync(eventId, controller, contentHash, now, cancellationToken).ConfigureAwait(false),
         await subjects.ForAsync(controller, pseudonyms, cancellationToken).ConfigureAwait(false));
}
