using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Npgsql;
using NpgsqlTypes;

namespace IntegrationGateway.Gateway.Ledger;

/// <summary>
/// How long the ledger keeps its entries (<c>Ledger:Retention</c>): a default, and per agreement where its own
/// records must be kept longer or shorter. ISO-8601 durations counted back from now, in calendar terms.
/// </summary>
public sealed class LedgerRetentionOptions
{
    public const string Section = "Ledger:Retention";

    /// <summary>For entries of agreements not named in <see cref="Agreements"/>.</summary>
    public string Default { get; set; } = "P7Y";

    /// <summary>Per agreement id, e.g. <c>schoolfotograaf-beeldmateriaal: P2Y</c>.</summary>
    public Dictionary<string, string> Agreements { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How often the running gateway purges; zero or less: only by hand (<c>ledger purge</c>).</summary>
    public TimeSpan PurgeEvery { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>What a purge takes (or would take) for one agreement.</summary>
public sealed record PurgeGroup(string AgreementId, string Retention, DateTimeOffset RecordedBefore, long Entries, DateTimeOffset Oldest, DateTimeOffset Newest);

/// <summary>What a purge did or would do; <see cref="PurgeEntries"/> are the purge entries written (none on a dry run or when nothing went).</summary>
public sealed record PurgeResult(IReadOnlyList<PurgeGroup> Groups, IReadOnlyList<string> Ranges, IReadOnlyList<long> PurgeEntries)
{
    public long Entries => Groups.Sum(g => g.Entries);
}

/// <summary>A purge stopped at an entry that does not match its hash; what was purged before it stays purged.</summary>
public sealed class LedgerPurgeRefusedException(string message, IReadOnlyList<long> purgeEntries, int purged) : Exception(message)
{
    public IReadOnlyList<long> PurgeEntries { get; } = purgeEntries;
    public int Purged { get; } = purged;
}

/// <summary>
/// Purges ledger entries past their retention without breaking the chain: each is blanked (every column but its
/// sequence, time and hashes: no pseudonym, no agreement, no field name stays), and one purge entry appended, keyed
/// like any other, names the blanked sequences and a digest of their hashes. <see cref="LedgerVerifier"/> checks the
/// links across blanked entries and that every blanked entry is named by a purge entry whose digest matches.
/// Under the chain's lock, in one transaction: a purge and an append never interleave.
/// </summary>
public static partial class LedgerPurge
{
    [GeneratedRegex(@"^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDuration();

    /// <summary>The moment <paramref name="duration"/> before <paramref name="now"/>, in calendar years, months and days; throws naming the setting when it is not an ISO-8601 duration.</summary>
    public static DateTimeOffset Before(DateTimeOffset now, string duration, string setting)
    {
        var match = IsoDuration().Match(duration ?? "");
        if (!match.Success)
        {
            throw new FormatException($"{setting} must be an ISO-8601 duration such as P7Y, P18M or P30D; '{duration}' is not one.");
        }

        try
        {
            int Part(int group) => match.Groups[group].Success ? int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
            return now.AddYears(-Part(1)).AddMonths(-Part(2)).AddDays(-(Part(3) * 7) - Part(4))
                .AddHours(-Part(5)).AddMinutes(-Part(6)).AddSeconds(-Part(7));
        }
        catch (Exception ex) when (ex is OverflowException or ArgumentOutOfRangeException)
        {
            throw new FormatException($"{setting} is longer than a calendar can count back ('{duration}').", ex);
        }
    }

    /// <summary>Checks every duration of the options; throws naming the first that is not one, or that is not longer than zero.</summary>
    public static void Validate(LedgerRetentionOptions options)
    {
        // Any clock from 2000 on counts back as far as from this one.
        var now = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        foreach (var (setting, duration) in options.Agreements.Select(a => ($"{LedgerRetentionOptions.Section}:Agreements:{a.Key}", a.Value)).Prepend(($"{LedgerRetentionOptions.Section}:Default", options.Default)))
        {
            if (Before(now, duration, setting) >= now)
            {
                throw new FormatException($"{setting} must be longer than zero: '{duration}' would purge every entry at once.");
            }
        }

        if (options.PurgeEvery > TimeSpan.FromDays(366))
        {
            throw new FormatException($"{LedgerRetentionOptions.Section}:PurgeEvery must be at most a year (it is {options.PurgeEvery}).");
        }
    }

    /// <summary>The cut-off of each agreement with its own retention, and of the rest, as of one moment.</summary>
    sealed record Rules(string[] Agreements, DateTimeOffset[] Cutoffs, DateTimeOffset Default, LedgerRetentionOptions Options)
    {
        public static Rules Of(LedgerRetentionOptions options, DateTimeOffset now)
        {
            var agreements = options.Agreements.Keys.Order(StringComparer.Ordinal).ToArray();
            return new Rules(agreements, [.. agreements.Select(a => Before(now, options.Agreements[a], a).ToUniversalTime())], Before(now, options.Default, "Default").ToUniversalTime(), options);
        }

        public (string Retention, DateTimeOffset Cutoff) For(string agreement) =>
            Array.IndexOf(Agreements, agreement) is var i and >= 0 ? (Options.Agreements[agreement], Cutoffs[i]) : ($"{Options.Default} (default)", Default);
    }

    /// <summary>
    /// Purges (or, with <paramref name="dryRun"/>, only counts) the entries recorded before their retention ended: in
    /// transactions of at most <paramref name="batchSize"/> entries, each with its own purge entry, so appends wait
    /// for one batch at most. An entry that does not match its keyed hash is never blanked (that would hide a change):
    /// the purge stops there with <see cref="LedgerPurgeRefusedException"/>, and `ledger verify` names it.
    /// </summary>
    public static async Task<PurgeResult> RunAsync(
        NpgsqlDataSource dataSource, LedgerKeys keys, LedgerRetentionOptions options, DateTimeOffset now, bool dryRun, CancellationToken cancellationToken, int batchSize = 10_000)
    {
        Validate(options);
        var rules = Rules.Of(options, now);
        var done = new List<LedgerEntry>();
        var purgeEntries = new List<long>();
        while (true)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
            if (dryRun)
            {
                done.AddRange(await DueAsync(connection, transaction, rules, limit: null, cancellationToken));
                break;
            }

            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({LedgerWriter.ChainLock})", connection, transaction))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }

            var due = await DueAsync(connection, transaction, rules, batchSize, cancellationToken);
            if (due.Count == 0)
            {
                break;
            }

            if (due.FirstOrDefault(e => !e.Consistent || !CryptographicOperations.FixedTimeEquals(keys.Chain(e.Canonical()), e.Hash)) is { } changed)
            {
                throw new LedgerPurgeRefusedException(
                    $"entry {changed.Seq} does not match its hash: it was changed, and blanking it would hide that. Nothing more was purged; 'ledger verify' names the first broken entry.",
                    purgeEntries, done.Count);
            }

            var seqs = due.Select(d => d.Seq).ToArray();
            await using (var blank = new NpgsqlCommand("""
                UPDATE ledger_entry SET kind = 'purged', event_id = '00000000-0000-0000-0000-000000000000', event_type = '', controller = '', sender = '',
                    agreement_id = '', agreement_version = 0, recipient = '', legal_basis = '', outcome = '', reasons = '{}', disclosed = '{}',
                    withheld = '{}', payload_sha256 = NULL, idempotency_key = NULL, attempts = 0, status_code = NULL, receipt = NULL,
                    trace_id = NULL, subject_pseudonyms = '{}', duration_ms = NULL, agreement_hash = NULL
                WHERE seq = ANY($1)
                """, connection, transaction))
            {
                blank.Parameters.Add(new() { Value = seqs });
                await blank.ExecuteNonQueryAsync(cancellationToken);
            }

            // The rules applied, so an auditor sees why these went: retention and cut-off per agreement.
            var applied = due.Select(d => d.AgreementId).Distinct().Order(StringComparer.Ordinal)
                .Select(a => rules.For(a) is var (retention, cutoff) ? $"{a}: {retention}, recorded before {cutoff:yyyy-MM-ddTHH:mm:ssZ}" : a);
            var purge = LedgerEntry.OfTheLedger(LedgerKinds.Purge, "purged") with
            {
                Reasons = ["retention", .. applied],
                PurgedRanges = Ranges(seqs),
                PurgedDigest = Digest(due.Select(d => (d.Seq, d.Hash))),
            };
            purgeEntries.Add(await LedgerWriter.AppendAsync(connection, transaction, [purge], keys, LedgerEntry.ToMicroseconds(now)));
            await transaction.CommitAsync(cancellationToken);
            done.AddRange(due);
            if (due.Count < batchSize)
            {
                break;
            }
        }

        var groups = done.GroupBy(d => d.AgreementId).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var (retention, cutoff) = rules.For(g.Key);
            return new PurgeGroup(g.Key, retention, cutoff, g.LongCount(), g.Min(d => d.RecordedAt), g.Max(d => d.RecordedAt));
        }).ToList();
        return new PurgeResult(groups, Ranges([.. done.Select(d => d.Seq).Order()]), purgeEntries);
    }

    /// <summary>The decisions and outcomes past their agreement's retention, oldest first.</summary>
    static async Task<List<LedgerEntry>> DueAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Rules rules, int? limit, CancellationToken cancellationToken)
    {
        var columns = string.Join(", ", LedgerVerifier.Columns.Split(", ").Select(c => "e." + c));
        await using var select = new NpgsqlCommand($"""
            SELECT {columns}
            FROM ledger_entry e LEFT JOIN unnest($1::text[], $2::timestamptz[]) AS r(agreement_id, cutoff) ON r.agreement_id = e.agreement_id
            WHERE e.kind IN ('decision', 'outcome') AND e.recorded_at < coalesce(r.cutoff, $3)
            ORDER BY e.seq {(limit is null ? "" : "LIMIT " + limit.Value.ToString(CultureInfo.InvariantCulture))}
            """, connection, transaction);
        select.Parameters.Add(new() { Value = rules.Agreements, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        select.Parameters.Add(new() { Value = rules.Cutoffs, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        select.Parameters.Add(new() { Value = rules.Default });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var due = new List<LedgerEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add(LedgerVerifier.Read(reader));
        }

        return due;
    }

    /// <summary>
    /// For the verifier: the purge entry must name only entries blanked before it, each once, and its digest must be
    /// that of their hashes. Those it names are settled (removed from <paramref name="blanked"/>). Null when it holds.
    /// </summary>
    internal static string? Settle(LedgerEntry purge, SortedDictionary<long, byte[]> blanked)
    {
        var named = new List<(long, byte[])>();
        foreach (var range in purge.PurgedRanges ?? [])
        {
            var bounds = range.Split('-');
            if (bounds.Length is < 1 or > 2 || !long.TryParse(bounds[0], CultureInfo.InvariantCulture, out var from) || !long.TryParse(bounds[^1], CultureInfo.InvariantCulture, out var to) || to < from)
            {
                return $"purge entry {purge.Seq} names '{range}', which is not a range of entries";
            }

            for (var seq = from; seq <= to; seq++)
            {
                if (!blanked.TryGetValue(seq, out var hash))
                {
                    return $"purge entry {purge.Seq} names entry {seq}, which is not a blanked entry before it";
                }

                named.Add((seq, hash));
            }
        }

        if (purge.PurgedDigest is null || !CryptographicOperations.FixedTimeEquals(Digest(named), purge.PurgedDigest))
        {
            return $"purge entry {purge.Seq} does not match the entries it names (one of them was changed)";
        }

        named.ForEach(n => blanked.Remove(n.Item1));
        return null;
    }

    static byte[] Digest(IEnumerable<(long Seq, byte[] Hash)> entries)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> seq = stackalloc byte[8];
        foreach (var (number, hash) in entries)
        {
            BinaryPrimitives.WriteInt64BigEndian(seq, number);
            sha.AppendData(seq);
            sha.AppendData(hash);
        }

        return sha.GetHashAndReset();
    }

    /// <summary>Sorted sequence numbers as ranges: <c>1-40</c>, <c>45</c>, <c>47-48</c>.</summary>
    public static IReadOnlyList<string> Ranges(IReadOnlyList<long> seqs)
    {
        var ranges = new List<string>();
        for (var i = 0; i < seqs.Count;)
        {
            var j = i;
            while (j + 1 < seqs.Count && seqs[j + 1] == seqs[j] + 1)
            {
                j++;
            }

            ranges.Add(i == j ? seqs[i].ToString(CultureInfo.InvariantCulture) : $"{seqs[i]}-{seqs[j]}");
            i = j + 1;
        }

        return ranges;
    }
}

/// <summary>
/// Purges the ledger every <see cref="LedgerRetentionOptions.PurgeEvery"/> in the running gateway (not at all when it
/// is 0), and forgets the event ids the intake saw longer ago than <see cref="Hosting.IntakeOptions.EventMemory"/>
/// as often, or daily when the purge is left to the command.
/// </summary>
internal sealed partial class LedgerRetentionService(
    NpgsqlDataSource dataSource, LedgerKeys keys, Microsoft.Extensions.Options.IOptions<LedgerRetentionOptions> options,
    Microsoft.Extensions.Options.IOptions<Hosting.IntakeOptions> intake, TimeProvider time, ILogger<LedgerRetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Event ids are forgotten daily however the ledger is purged (PurgeEvery 0 leaves that to 'ledger purge').
        var purging = options.Value.PurgeEvery > TimeSpan.Zero;
        var every = purging ? options.Value.PurgeEvery : TimeSpan.FromDays(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var forgotten = await Storage.IntakeEvents.ForgetAsync(dataSource, time.GetUtcNow() - intake.Value.EventMemory, stoppingToken);
                if (forgotten > 0)
                {
                    LogForgotten(forgotten, intake.Value.EventMemory.TotalDays);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogForgetFailed(ex.GetType().Name);
            }

            try
            {
                if (purging)
                {
                    var result = await LedgerPurge.RunAsync(dataSource, keys, options.Value, time.GetUtcNow(), dryRun: false, stoppingToken);
                    if (result.PurgeEntries.Count > 0)
                    {
                        LogPurged(result.Entries, result.Groups.Count, string.Join(", ", result.PurgeEntries));
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (LedgerPurgeRefusedException ex)
            {
                LogPurgeRefused(ex.Message);
            }
            catch (Exception ex)
            {
                // Never stop the host over a purge: it is tried again next time. The type, not a message that could quote data.
                LogPurgeFailed(ex.GetType().Name);
            }

            // In steps of a day at most: a timer takes no more than about 49 days at once.
            var next = time.GetUtcNow() + every;
            while (time.GetUtcNow() < next && !stoppingToken.IsCancellationRequested)
            {
                var step = next - time.GetUtcNow();
                await Task.Delay(step > TimeSpan.FromDays(1) ? TimeSpan.FromDays(1) : step, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ledger retention: purged {Entries} entries of {Agreements} agreement(s); purge entries {PurgeEntries}")]
    partial void LogPurged(long entries, int agreements, string purgeEntries);

    [LoggerMessage(Level = LogLevel.Information, Message = "Intake: forgot {Count} event ids first seen more than {Days:0} days ago")]
    partial void LogForgotten(int count, double days);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Intake: old event ids not forgotten ({ExceptionType}); tried again next time")]
    partial void LogForgetFailed(string exceptionType);

    [LoggerMessage(Level = LogLevel.Critical, Message = "ALERT: ledger retention refused to purge: {Problem}")]
    partial void LogPurgeRefused(string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger retention: purge not done ({ExceptionType}); tried again next time")]
    partial void LogPurgeFailed(string exceptionType);
}
