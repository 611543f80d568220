using System.Collections.Concurrent;
using System.Text.Json;
using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Storage;
using IntegrationGateway.Gateway.Subjects;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>
/// What the intake does with an authenticated, valid event, once per event id: it is remembered with a keyed hash of
/// its content (<see cref="IEventRegister"/>, <see cref="Ledger.LedgerKeys.ContentOf"/>); a data-subject event is
/// applied to its controller's subject state, a transferable one handed to the <see cref="TransferPipeline"/>; once
/// every transfer is settled the id is marked so. The same event again after that is a duplicate and nothing is done;
/// the same id with other content (or from another controller) is reused and nothing is done. Two copies of one id
/// in this process take turns (<see cref="TakeTurnAsync"/>), so the second finds the first settled.
/// </summary>
public sealed class EventProcessor(ISubjectRegistry subjects, IEventRegister events, Ledger.LedgerKeys keys, TransferPipeline pipeline, TimeProvider time)
{
    readonly ConcurrentDictionary<Guid, TaskCompletionSource> _inFlight = new();

    /// <summary>
    /// Waits while another copy of the same event id is worked on in this process (published twice in a row, both
    /// prefetched); dispose the turn when done with this copy.
    /// </summary>
    public async Task<IDisposable> TakeTurnAsync(Guid eventId, CancellationToken cancellationToken)
    {
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        while (true)
        {
            var holder = _inFlight.GetOrAdd(eventId, mine);
            if (holder == mine)
            {
                return new Turn(this, eventId, mine);
            }

            await holder.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Works on the event unless it was settled before or its id is reused; says which it was.</summary>
    /// <param name="eventId">The event's id.</param>
    /// <param name="eventType">Its type, known to the catalogue.</param>
    /// <param name="body">The event as published (validated).</param>
    /// <param name="controller">The controller its sender was authenticated as.</param>
    /// <param name="redelivered">Delivered or tried before: a transfer parked then may be delivered now.</param>
    /// <param name="cancellationToken">Cancelled at shutdown.</param>
    public async Task<EventSighting> ProcessAsync(Guid eventId, string eventType, JsonElement body, Controller controller, bool redelivered, CancellationToken cancellationToken)
    {
        var kind = EventKinds.Of(eventType);
        var content = keys.ContentOf(controller.Id, eventType, body);
        // An event decided at once on what its subject said (not one that changes that, nor a notice) has the subject's
        // state read with its sighting: one round trip for both.
        KnownSubject? known = null;
        EventSighting sighting;
        if (kind.Transfers() && !kind.ChangesSubjectState() && !kind.IsNotice())
        {
            var pseudonyms = keys.Pseudonyms(body);
            (sighting, var state) = await events.SeeWithSubjectAsync(eventId, controller.Id, content, time.GetUtcNow(), subjects, pseudonyms, cancellationToken).ConfigureAwait(false);
            known = new KnownSubject(pseudonyms, state);
        }
        else
        {
            sighting = await events.SeeAsync(eventId, controller.Id, content, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }

        if (sighting is EventSighting.Settled or EventSighting.Reused)
        {
            return sighting;
        }

        if (kind.ChangesSubjectState())
        {
            // Applied first: a later event of this subject is decided on it, whatever happens to the notices.
            await subjects.ApplyAsync(controller.Id, eventType, body, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }

        // Marked settled with the ledger entries when there are any (one commit); on its own when nothing was decided.
        var settled = kind.Transfers() && await pipeline.ProcessAsync(eventId, EventFacts.Of(eventType, body, controller), body, cancellationToken,
            redelivered || sighting == EventSighting.Unsettled, settles: true, known).ConfigureAwait(false);
        if (!settled)
        {
            await events.SettledAsync(eventId, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        return sighting;
    }

    sealed class Turn(EventProcessor owner, Guid eventId, TaskCompletionSource mine) : IDisposable
    {
        public void Dispose()
        {
            owner._inFlight.TryRemove(new(eventId, mine));
            mine.TrySetResult();
        }
    }
}
