using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

namespace IntegrationGateway.Gateway.Ledger;

/// <summary>
/// Appends entries to the ledger in batches: everything that arrives while a batch is being written goes into the
/// next, one transaction in two round trips each, not a round trip per transfer. A caller's task completes when
/// its entries are committed; the pipeline awaits it before the message is acknowledged. Under an advisory lock,
/// so gateways sharing the database append to one chain: each entry carries the keyed hash of the one before.
/// </summary>
public sealed partial class LedgerWriter(NpgsqlDataSource dataSource, LedgerKeys keys, TimeProvider time, ILogger<LedgerWriter> logger, Storage.DatabaseOutage? outage = null)
    : IHostedService, Storage.ITransferLedger
{
    const int MaxBatch = 1000;

    /// <summary>The advisory lock that serialises appends (and purges) to the one chain.</summary>
    internal const long ChainLock = 7352002;
    readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    Task? _loop;

    sealed record Pending(IReadOnlyList<LedgerEntry> Entries, Guid? Settles, TaskCompletionSource Committed);

    /// <summary>Entries written since start (for the benchmark and the ops view).</summary>
    public long Written => Interlocked.Read(ref _written);

    long _written;

    public Task AppendAsync(IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken, Guid? settles = null)
    {
        if (entries.Count == 0 && settles is null)
        {
            return Task.CompletedTask;
        }

        var pending = new Pending(entries, settles, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException("the ledger writer has stopped");
        }

        return pending.Committed.Task.WaitAsync(cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Writes what is queued, then stops: the intake stops before this, so nothing waits in vain.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken);
        }
    }

    async Task RunAsync()
    {
        var batch = new List<Pending>();
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            var count = 0;
            while (count < MaxBatch && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
                count += pending.Entries.Count;
            }

            try
            {
                await WriteAsync(batch.SelectMany(p => p.Entries).ToList(), [.. batch.Where(p => p.Settles is not null).Select(p => p.Settles!.Value)]);
                Interlocked.Add(ref _written, count);
                batch.ForEach(p => p.Committed.TrySetResult());
            }
            catch (Exception ex)
            {
                // Not committed: every caller of this batch learns so, and its message is not acknowledged. The
                // database being away is the outage's one line, not a line per batch.
                if (outage is not null && Intake.IntakeRetries.IsDatabaseOutage(ex))
                {
                    _ = outage.NoticedAsync("ledger writer", ex.GetType().Name);
                }
                else
                {
                    LogWriteFailed(count, ex.GetType().Name, ex.Message);
                }
                batch.ForEach(p => p.Committed.TrySetException(ex));
            }
        }
    }

    async Task WriteAsync(IReadOnlyList<LedgerEntry> entries, Guid[] settles)
    {
        var now = LedgerEntry.ToMicroseconds(time.GetUtcNow());
        await using var connection = await dataSource.OpenConnectionAsync();
        if (entries.Count == 0)
        {
            // Settle marks alone (events that decided nothing): no entry, so neither the chain's lock nor its head.
            await using var settle = new NpgsqlCommand(SettleSql, connection) { Parameters = { new() { Value = settles }, new() { Value = now } } };
            await settle.ExecuteNonQueryAsync();
            return;
        }

        try
        {
            await AppendAsync(connection, null, entries, keys, now, settles);
        }
        catch when (connection.State == System.Data.ConnectionState.Open)
        {
            // The batch's own transaction, when a statement in it failed and its COMMIT was skipped: rolled back here,
            // not left to the pool's reset (which would too). The batch's own error is the one that counts.
            try
            {
                await using var rollback = new NpgsqlCommand("ROLLBACK", connection);
                await rollback.ExecuteNonQueryAsync();
            }
            catch (Exception rollbackFailed) when (rollbackFailed is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                // The connection is broken: the server ends the transaction with it.
            }

            throw;
        }
    }

    const string SettleSql = "UPDATE intake_event SET settled_at = $2 WHERE event_id = ANY($1) AND settled_at IS NULL";

    /// <summary>Up to this many entries go as prepared INSERTs in the batch that commits; more, by binary COPY.</summary>
    const int PipelinedRows = 64;

    const string Columns = "seq, recorded_at, kind, event_id, event_type, sender, agreement_id, agreement_version, recipient, legal_basis, outcome, reasons, disclosed, withheld, payload_sha256, idempotency_key, attempts, status_code, receipt, trace_id, subject_pseudonyms, purged_ranges, purged_digest, duration_ms, previous_hash, entry_hash, controller, agreement_hash";

    static readonly string Insert = $"INSERT INTO ledger_entry ({Columns}) VALUES ({string.Join(", ", Enumerable.Range(1, Columns.Split(',').Length).Select(i => $"${i}"))})";

    /// <summary>
    /// Takes the chain's lock (read committed, so the head is read after it) and appends the entries after its head,
    /// marking the events in <paramref name="settles"/> settled in the same commit. Without a caller's
    /// <paramref name="transaction"/> the append is its own, in two round trips: BEGIN with the lock, the head, the
    /// decisions recorded before and the settle marks; then the entries, one INSERT each (prepared when the data
    /// source auto-prepares, as the gateway's does), with COMMIT. A batch over <see cref="PipelinedRows"/> goes by
    /// binary COPY, then COMMIT: four round trips, shared by many entries.
    /// </summary>
    internal static async Task<long> AppendAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<LedgerEntry> entries, LedgerKeys keys, DateTimeOffset now, Guid[]? settles = null)
    {
        var own = transaction is null;
        var eventIds = entries.Where(e => e.Kind == LedgerKinds.Decision).Select(e => e.EventId).Distinct().ToArray();
        long seq;
        byte[] previous;
        var decided = new HashSet<(Guid, string)>();
        await using (var head = new NpgsqlBatch(connection, transaction))
        {
            if (own)
            {
                head.BatchCommands.Add(new("BEGIN ISOLATION LEVEL READ COMMITTED"));
            }

            head.BatchCommands.Add(new($"SELECT pg_advisory_xact_lock({ChainLock})"));
            head.BatchCommands.Add(new("SELECT seq, entry_hash FROM ledger_entry ORDER BY seq DESC LIMIT 1"));
            // A decision already recorded for the same event and agreement (the message was delivered again: after
            // a shutdown, or an acknowledgement lost with the connection) is recorded as what it is, a later outcome:
            // one decision per (event × agreement), which a unique index holds to. Read under the chain's lock.
            head.BatchCommands.Add(new("SELECT event_id, agreement_id FROM ledger_entry WHERE kind = 'decision' AND event_id = ANY($1)") { Parameters = { new() { Value = eventIds } } });
            if (settles is { Length: > 0 })
            {
                // The events these entries settle, in the same commit: a republished copy finds them settled exactly
                // when their decisions are in the ledger.
                head.BatchCommands.Add(new(SettleSql)
                {
                    Parameters = { new() { Value = settles }, new() { Value = now } },
                });
            }

            // BEGIN and UPDATE return no result set: the reader starts on the lock's, then the head's and the decisions'.
            await using var reader = await head.ExecuteReaderAsync();
            await reader.NextResultAsync();
            (seq, previous) = await reader.ReadAsync() ? (reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) : (0L, new byte[32]);
            await reader.NextResultAsync();
            while (await reader.ReadAsync())
            {
                decided.Add((reader.GetGuid(0), reader.GetString(1)));
            }
        }

        var rows = new List<LedgerEntry>(entries.Count);
        foreach (var draft in entries)
        {
            // Add returns false for one decided before, or earlier in this batch. A recipient's receipt is its own
            // text: PostgreSQL refuses NUL in text, and a batch must not fail on one entry.
            var kind = draft.Kind != LedgerKinds.Decision || decided.Add((draft.EventId, draft.AgreementId)) ? draft.Kind : LedgerKinds.Outcome;
            var entry = draft with
            {
                Kind = kind, Seq = ++seq, RecordedAt = now, PreviousHash = previous, Receipt = Clean(draft.Receipt),
                PayloadSha256 = draft.PayloadSha256 is { } sent ? keys.PayloadDigest(sent) : null,
            };
            rows.Add(entry with { Hash = keys.Chain(entry.Canonical()) });
            previous = rows[^1].Hash;
        }

        if (rows.Count > PipelinedRows)
        {
            // A large batch (a backlog after an outage): binary COPY costs the database less per row, and its two
            // extra round trips are shared by many.
            await using (var copy = await connection.BeginBinaryImportAsync($"COPY ledger_entry ({Columns}) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var row in rows)
                {
                    await copy.StartRowAsync();
                    foreach (var (value, type) in Values(row))
                    {
                        await (value is null ? copy.WriteNullAsync() : copy.WriteAsync(value, type));
                    }
                }

                await copy.CompleteAsync();
            }

            rows.Clear();
        }

        await using var append = new NpgsqlBatch(connection, transaction);
        foreach (var row in rows)
        {
            var insert = new NpgsqlBatchCommand(Insert);
            foreach (var (value, type) in Values(row))
            {
                insert.Parameters.Add(new() { Value = value ?? DBNull.Value, NpgsqlDbType = type });
            }

            append.BatchCommands.Add(insert);
        }

        if (own)
        {
            append.BatchCommands.Add(new("COMMIT"));
        }

        if (append.BatchCommands.Count > 0)
        {
            await append.ExecuteNonQueryAsync();
        }

        return seq;
    }

    /// <summary>An entry's columns, in the order of <see cref="Columns"/>.</summary>
    static IEnumerable<(object? Value, NpgsqlDbType Type)> Values(LedgerEntry entry)
    {
        yield return (entry.Seq, NpgsqlDbType.Bigint);
        yield return (entry.RecordedAt, NpgsqlDbType.TimestampTz);
        yield return (entry.Kind, NpgsqlDbType.Text);
        yield return (entry.EventId, NpgsqlDbType.Uuid);
        yield return (entry.EventType, NpgsqlDbType.Text);
        yield return (entry.Sender, NpgsqlDbType.Text);
        yield return (entry.AgreementId, NpgsqlDbType.Text);
        yield return (entry.AgreementVersion, NpgsqlDbType.Integer);
        yield return (entry.Recipient, NpgsqlDbType.Text);
        yield return (entry.LegalBasis, NpgsqlDbType.Text);
        yield return (entry.Outcome, NpgsqlDbType.Text);
        yield return (entry.Reasons.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
        yield return (entry.Disclosed.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
        yield return (entry.Withheld.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
        yield return (entry.PayloadSha256, NpgsqlDbType.Bytea);
        yield return (entry.IdempotencyKey, NpgsqlDbType.Text);
        yield return (entry.Attempts, NpgsqlDbType.Integer);
        yield return (entry.StatusCode, NpgsqlDbType.Integer);
        yield return (entry.Receipt, NpgsqlDbType.Text);
        yield return (entry.TraceId, NpgsqlDbType.Text);
        yield return (entry.SubjectPseudonyms.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bytea);
        yield return (entry.PurgedRanges?.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
        yield return (entry.PurgedDigest, NpgsqlDbType.Bytea);
        yield return (entry.DurationMs, NpgsqlDbType.Integer);
        yield return (entry.PreviousHash, NpgsqlDbType.Bytea);
        yield return (entry.Hash, NpgsqlDbType.Bytea);
        yield return (entry.Controller, NpgsqlDbType.Text);
        yield return (entry.AgreementHash, NpgsqlDbType.Text);
    }

    static string? Clean(string? text) =>
        text is null ? null : new string(text.Where(c => !char.IsControl(c)).Take(200).ToArray());

    [LoggerMessage(Level = LogLevel.Error, Message = "Ledger: {Count} entries not written ({ExceptionType}: {Problem}); their messages are kept and tried again")]
    partial void LogWriteFailed(int count, string exceptionType, string problem);
}
