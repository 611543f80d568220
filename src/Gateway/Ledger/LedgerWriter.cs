using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

namespace IntegrationGateway.Gateway.Ledger;

/// <summary>
/// Appends entries to the ledger in batches: everything that arrives while a batch is being written goes into the
/// next, one transaction and one binary COPY each, not a round trip per transfer. A caller's task completes when
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
        await using var connection = await dataSource.OpenConnectionAsync();
        // Read committed: the head is read after the advisory lock is held, not from a snapshot taken before it.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted);
        var now = LedgerEntry.ToMicroseconds(time.GetUtcNow());
        if (entries.Count > 0)
        {
            await AppendAsync(connection, transaction, entries, keys, now);
        }

        if (settles.Length > 0)
        {
            // The events these entries settle, in the same commit: a republished copy finds them settled exactly when
            // their decisions are in the ledger.
            await using var settle = new NpgsqlCommand("UPDATE intake_event SET settled_at = $2 WHERE event_id = ANY($1) AND settled_at IS NULL", connection, transaction);
            settle.Parameters.Add(new() { Value = settles });
            settle.Parameters.Add(new() { Value = now });
            await settle.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>Takes the chain's lock for the transaction (read committed) and appends the entries after its head.</summary>
    internal static async Task<long> AppendAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<LedgerEntry> entries, LedgerKeys keys, DateTimeOffset now)
    {
        long seq;
        byte[] previous;
        await using (var head = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({ChainLock}); SELECT seq, entry_hash FROM ledger_entry ORDER BY seq DESC LIMIT 1", connection, transaction))
        await using (var reader = await head.ExecuteReaderAsync())
        {
            await reader.NextResultAsync();
            (seq, previous) = await reader.ReadAsync() ? (reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) : (0L, new byte[32]);
        }

        entries = await LaterOutcomesAsync(connection, transaction, entries);
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY ledger_entry (seq, recorded_at, kind, event_id, event_type, sender, agreement_id, agreement_version, recipient, legal_basis, outcome, reasons, disclosed, withheld, payload_sha256, idempotency_key, attempts, status_code, receipt, trace_id, subject_pseudonyms, purged_ranges, purged_digest, duration_ms, previous_hash, entry_hash, controller) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var draft in entries)
            {
                // A recipient's receipt is its own text: PostgreSQL refuses NUL in text, and a batch must not fail on one entry.
                var entry = draft with { Seq = ++seq, RecordedAt = now, PreviousHash = previous, Receipt = Clean(draft.Receipt) };
                var hash = keys.Chain(entry.Canonical());
                await copy.StartRowAsync();
                await copy.WriteAsync(entry.Seq, NpgsqlDbType.Bigint);
                await copy.WriteAsync(entry.RecordedAt, NpgsqlDbType.TimestampTz);
                await copy.WriteAsync(entry.Kind, NpgsqlDbType.Text);
                await copy.WriteAsync(entry.EventId, NpgsqlDbType.Uuid);
                await copy.WriteAsync(entry.EventType, NpgsqlDbType.Text);
                await copy.WriteAsync(entry.Sender, NpgsqlDbType.Text);
                await copy.WriteAsync(entry.AgreementId, NpgsqlDbType.Text);
                await copy.WriteAsync(entry.AgreementVersion, NpgsqlDbType.Integer);
                await copy.WriteAsync(entry.Recipient, NpgsqlDbType.Text);
                await copy.WriteAsync(entry.LegalBasis, NpgsqlDbType.Text);
                await copy.WriteAsync(entry.Outcome, NpgsqlDbType.Text);
                await copy.WriteAsync(entry.Reasons.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
                await copy.WriteAsync(entry.Disclosed.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
                await copy.WriteAsync(entry.Withheld.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
                await WriteNullableAsync(copy, entry.PayloadSha256, NpgsqlDbType.Bytea);
                await WriteNullableAsync(copy, entry.IdempotencyKey, NpgsqlDbType.Text);
                await copy.WriteAsync(entry.Attempts, NpgsqlDbType.Integer);
                await WriteNullableAsync(copy, entry.StatusCode, NpgsqlDbType.Integer);
                await WriteNullableAsync(copy, entry.Receipt, NpgsqlDbType.Text);
                await WriteNullableAsync(copy, entry.TraceId, NpgsqlDbType.Text);
                await copy.WriteAsync(entry.SubjectPseudonyms.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bytea);
                await WriteNullableAsync(copy, entry.PurgedRanges?.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
                await WriteNullableAsync(copy, entry.PurgedDigest, NpgsqlDbType.Bytea);
                await WriteNullableAsync(copy, entry.DurationMs, NpgsqlDbType.Integer);
                await copy.WriteAsync(entry.PreviousHash, NpgsqlDbType.Bytea);
                await copy.WriteAsync(hash, NpgsqlDbType.Bytea);
                await copy.WriteAsync(entry.Controller, NpgsqlDbType.Text);
                previous = hash;
            }

            await copy.CompleteAsync();
        }

        return seq;
    }

    /// <summary>
    /// A decision already recorded for the same event and agreement (the message was delivered again: after a
    /// shutdown, or an acknowledgement lost with the connection) is recorded as what it is, a later outcome: one
    /// decision per (event × agreement), which a unique index holds to. Read under the chain's lock.
    /// </summary>
    static async Task<IReadOnlyList<LedgerEntry>> LaterOutcomesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<LedgerEntry> entries)
    {
        var eventIds = entries.Where(e => e.Kind == LedgerKinds.Decision).Select(e => e.EventId).Distinct().ToArray();
        if (eventIds.Length == 0)
        {
            return entries;
        }

        var decided = new HashSet<(Guid, string)>();
        await using (var command = new NpgsqlCommand("SELECT event_id, agreement_id FROM ledger_entry WHERE kind = 'decision' AND event_id = ANY($1)", connection, transaction))
        {
            command.Parameters.Add(new() { Value = eventIds });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                decided.Add((reader.GetGuid(0), reader.GetString(1)));
            }
        }

        // Add returns false for one decided before, or earlier in this batch.
        return [.. entries.Select(e => e.Kind != LedgerKinds.Decision || decided.Add((e.EventId, e.AgreementId)) ? e : e with { Kind = LedgerKinds.Outcome })];
    }

    static string? Clean(string? text) =>
        text is null ? null : new string(text.Where(c => !char.IsControl(c)).Take(200).ToArray());

    static Task WriteNullableAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type) =>
        value is null ? copy.WriteNullAsync() : copy.WriteAsync(value, type);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ledger: {Count} entries not written ({ExceptionType}: {Problem}); their messages are kept and tried again")]
    partial void LogWriteFailed(int count, string exceptionType, string problem);
}
