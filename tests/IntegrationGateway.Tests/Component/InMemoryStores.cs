using System.Text.Json;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Storage;
using IntegrationGateway.Gateway.Subjects;

namespace IntegrationGateway.Tests.Component;

// In-memory stores with the semantics of the PostgreSQL ones (upsert by idempotency key, leases, due times), for the
// component tier only: the integration tier keeps a test per real store.

internal sealed class InMemoryTransferStore(TimeProvider time) : ITransferStore
{
    readonly Dictionary<string, ParkedTransfer> _rows = new(StringComparer.Ordinal);
    readonly Lock _lock = new();

    public IReadOnlyList<ParkedTransfer> Rows
    {
        get
        {
            lock (_lock)
            {
                return [.. _rows.Values];
            }
        }
    }

    public ParkedTransfer? this[string key]
    {
        get
        {
            lock (_lock)
            {
                return _rows.GetValueOrDefault(key);
            }
        }
    }

    /// <summary>What releasing a hold does in PostgreSQL (an approval, a route enabled): the rows in that state due now.</summary>
    public void Release(string state)
    {
        lock (_lock)
        {
            foreach (var (key, row) in _rows.Where(r => r.Value.State == state).ToList())
            {
                _rows[key] = row with { State = ParkedState.Waiting, NextAttemptAt = time.GetUtcNow() };
            }
        }
    }

    public Task ParkAsync(ParkedTransfer parked, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_rows.TryGetValue(parked.Transfer.IdempotencyKey, out var held) && held.LeaseId is not null && held.NextAttemptAt > time.GetUtcNow())
            {
                return Task.CompletedTask; // under a live lease: its holder settles it
            }

            var attempts = parked.Attempts + (_rows.TryGetValue(parked.Transfer.IdempotencyKey, out var earlier) ? earlier.Attempts : 0);
            _rows[parked.Transfer.IdempotencyKey] = parked with { Attempts = attempts };
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ParkedTransfer>> ClaimDueAsync(int limit, TimeSpan lease, IReadOnlyCollection<string> disabledRecipients, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var claim = Guid.NewGuid();
        lock (_lock)
        {
            var due = _rows.Values
                .Where(p => p.State == ParkedState.Waiting && p.NextAttemptAt <= now && !disabledRecipients.Contains(p.Recipient))
                .OrderBy(p => p.NextAttemptAt).Take(limit).ToList();
            foreach (var p in due)
            {
                _rows[p.Transfer.IdempotencyKey] = p with { NextAttemptAt = now + lease, LeaseId = claim };
            }

            return Task.FromResult<IReadOnlyList<ParkedTransfer>>([.. due.Select(p => _rows[p.Transfer.IdempotencyKey])]);
        }
    }

    public Task RemoveAsync(string idempotencyKey, CancellationToken cancellationToken, Guid? lease = null)
    {
        lock (_lock)
        {
            if (_rows.TryGetValue(idempotencyKey, out var row) && (lease is null || row.LeaseId == lease))
            {
                _rows.Remove(idempotencyKey);
            }
        }

        return Task.CompletedTask;
    }

    public Task UpdateAsync(string idempotencyKey, string state, DateTimeOffset nextAttemptAt, int? status, string? problem, Guid lease, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_rows.TryGetValue(idempotencyKey, out var row) && row.LeaseId == lease)
            {
                _rows[idempotencyKey] = row with { State = state, Attempts = row.Attempts + 1, NextAttemptAt = nextAttemptAt, LastStatus = status, LastProblem = problem, LeaseId = null };
            }
        }

        return Task.CompletedTask;
    }

    public Task HoldAsync(string idempotencyKey, string state, string problem, Guid lease, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_rows.TryGetValue(idempotencyKey, out var row) && row.LeaseId == lease)
            {
                _rows[idempotencyKey] = row with { State = state, LastProblem = problem, LeaseId = null };
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>One process, one store: no other gateway's leases to take over.</summary>
    public Task<int> ReclaimAsync(TimeSpan grace, CancellationToken cancellationToken) => Task.FromResult(0);

    public Task GiveBackAsync(IEnumerable<string> idempotencyKeys, Guid lease, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            foreach (var key in idempotencyKeys)
            {
                if (_rows.TryGetValue(key, out var row) && row.LeaseId == lease)
                {
                    _rows[key] = row with { NextAttemptAt = nextAttemptAt, LeaseId = null };
                }
            }
        }

        return Task.CompletedTask;
    }
}

internal sealed class InMemoryRoutes : IRecipientRoutes
{
    readonly HashSet<string> _disabled = new(StringComparer.Ordinal);

    public Task<IReadOnlySet<string>> DisabledAsync(CancellationToken cancellationToken)
    {
        lock (_disabled)
        {
            return Task.FromResult<IReadOnlySet<string>>(new HashSet<string>(_disabled, StringComparer.Ordinal));
        }
    }

    public Task DisableAsync(string recipient, string reason, CancellationToken cancellationToken)
    {
        lock (_disabled)
        {
            _disabled.Add(recipient);
        }

        return Task.CompletedTask;
    }

    public Task<bool> EnableAsync(string recipient, CancellationToken cancellationToken)
    {
        lock (_disabled)
        {
            return Task.FromResult(_disabled.Remove(recipient));
        }
    }
}

/// <summary>
/// The ledger as a list, in the order entries were committed; also what the notices read as history. Marks the events
/// it is told settle with their entries in the bed's <see cref="InMemoryEventRegister"/>, as the real ledger does.
/// </summary>
internal sealed class InMemoryLedger(InMemoryEventRegister? events = null) : ITransferLedger, ISubjectHistory
{
    readonly List<LedgerEntry> _entries = [];

    public IReadOnlyList<LedgerEntry> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public async Task AppendAsync(IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken, Guid? settles = null)
    {
        lock (_entries)
        {
            _entries.AddRange(entries);
        }

        if (settles is { } eventId && events is not null)
        {
            await events.SettledAsync(eventId, DateTimeOffset.UnixEpoch, cancellationToken);
        }
    }

    /// <summary>As the ledger answers "who received this person's data": the first delivery of each transfer.</summary>
    public Task<IReadOnlyList<SubjectTransfer>> TransfersAsync(string? controller, IReadOnlyList<byte[]> pseudonyms, CancellationToken cancellationToken)
    {
        var wanted = pseudonyms.Select(Convert.ToBase64String).ToHashSet(StringComparer.Ordinal);
        var entries = Entries;
        var decisions = entries.Where(e => e.Kind == LedgerKinds.Decision && e.IdempotencyKey is not null).GroupBy(e => e.IdempotencyKey!).ToDictionary(g => g.Key, g => g.First());
        IReadOnlyList<SubjectTransfer> transfers = [.. entries
            .Where(e => e.Outcome == "delivered" && e.IdempotencyKey is not null && (controller is null || e.Controller == controller) && e.SubjectPseudonyms.Any(p => wanted.Contains(Convert.ToBase64String(p))))
            .GroupBy(e => e.IdempotencyKey!).Select(g => g.First())
            .Select(e => new SubjectTransfer(
                e.RecordedAt, e.Controller, e.Sender, e.Recipient, e.AgreementId, e.AgreementVersion, e.LegalBasis, e.EventType,
                e.Disclosed.Count > 0 ? e.Disclosed : decisions.GetValueOrDefault(e.IdempotencyKey!)?.Disclosed ?? []))];
        return Task.FromResult(transfers);
    }
}

/// <summary>What subjects said to each controller, by pseudonym, merged toward stopping like the PostgreSQL registry.</summary>
internal sealed class InMemorySubjects(LedgerKeys keys) : ISubjectRegistry
{
    readonly Dictionary<string, SubjectState> _states = new(StringComparer.Ordinal);

    public int Reads { get; private set; }

    public Task ApplyAsync(string controller, string eventType, JsonElement body, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_states)
        {
            foreach (var pseudonym in keys.Pseudonyms(body).Select(p => controller + "|" + Convert.ToBase64String(p)))
            {
                var state = _states.GetValueOrDefault(pseudonym) ?? new SubjectState();
                _states[pseudonym] = eventType switch
                {
                    nameof(Contracts.ConsentChanged) => state with
                    {
                        Consents = new Dictionary<string, ConsentStatus>(state.Consents)
                        {
                            [body.GetProperty("consent").GetProperty("purpose").GetString()!] =
                                body.GetProperty("consent").GetProperty("status").GetString() == "given" ? ConsentStatus.Given : ConsentStatus.Withdrawn,
                        },
                    },
                    nameof(Contracts.ObjectionLodged) => state with { Objected = true },
                    nameof(Contracts.ErasureRequested) => state with { Erased = true },
                    _ => throw new ArgumentException($"{eventType} is not a data-subject event", nameof(eventType)),
                };
            }
        }

        return Task.CompletedTask;
    }

    public Task<SubjectState> ForAsync(string controller, byte[][] pseudonyms, CancellationToken cancellationToken)
    {
        lock (_states)
        {
            Reads++;
            var known = pseudonyms.Select(p => controller + "|" + Convert.ToBase64String(p)).Select(p => _states.GetValueOrDefault(p)).OfType<SubjectState>().ToList();
            return Task.FromResult(known.Count == 0 ? SubjectState.Unknown : new SubjectState
            {
                Consents = known.SelectMany(s => s.Consents).GroupBy(c => c.Key)
                    .ToDictionary(g => g.Key, g => g.Any(c => c.Value == ConsentStatus.Withdrawn) ? ConsentStatus.Withdrawn : ConsentStatus.Given),
                Objected = known.Any(s => s.Objected),
                Erased = known.Any(s => s.Erased),
            });
        }
    }
}

/// <summary>The intake's memory of event ids, as the PostgreSQL <c>intake_event</c> keeps it.</summary>
internal sealed class InMemoryEventRegister : IEventRegister
{
    readonly Dictionary<Guid, (byte[] Content, bool Settled)> _events = [];

    public Task<EventSighting> SeeAsync(Guid eventId, string controller, byte[] contentHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_events)
        {
            if (!_events.TryGetValue(eventId, out var seen))
            {
                _events[eventId] = (contentHash, false);
                return Task.FromResult(EventSighting.New);
            }

            return Task.FromResult(!seen.Content.AsSpan().SequenceEqual(contentHash) ? EventSighting.Reused : seen.Settled ? EventSighting.Settled : EventSighting.Unsettled);
        }
    }

    public Task SettledAsync(Guid eventId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_events)
        {
            if (_events.TryGetValue(eventId, out var seen))
            {
                _events[eventId] = (seen.Content, true);
            }
        }

        return Task.CompletedTask;
    }
}
