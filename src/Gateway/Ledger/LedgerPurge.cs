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

/// <summary>What a purge did or would do; <see cref="PurgeEntry"/> is the sequence of the purge entry written (null on a dry run or when nothing went).</summary>
public sealed record PurgeResult(IReadOnlyList<PurgeGroup> Groups, IReadOnlyList<string> Ranges, long? PurgeEntry)
{
    public long Entries => Groups.Sum(g => g.Entries);
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

    /// <summary>Checks every duration of the options; throws naming the first that is not one.</summary>
    public static void Validate(LedgerRetentionOptions options)
    {
        var now = DateTimeOffset.UnixEpoch.AddYears(1000);
        Before(now, options.Default, $"{LedgerRetentionOptions.Section}:Default");
        foreach (var (agreement, duration) in options.Agreements)
        {
            Before(now, duration, $"{LedgerRetentionOptions.Section}:Agreements:{agreement}");
        }
    }

    /// <summary>Purges (or, with <paramref name="dryRun"/>, only counts) the entries recorded before their retention ended.</summary>
    public static async Task<PurgeResult> RunAsync(NpgsqlDataSource dataSource, LedgerKeys keys, LedgerRetentionOptions options, DateTimeOffset now, bool dryRun, CancellationToken cancellationToken)
    {
        Validate(options);
        var agreements = options.Agreements.Keys.ToArray();
        var cutoffs = agreements.Select(a => Before(now, options.Agreements[a], a).ToUniversalTime()).ToArray();
        var defaultCutoff = Before(now, options.Default, "Default").ToUniversalTime();

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({LedgerWriter.ChainLock})", connection, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        var due = new List<(long Seq, string Agreement, DateTimeOffset At, byte[] Hash)>();
        await using (var select = new NpgsqlCommand("""
            SELECT e.seq, e.agreement_id, e.recorded_at, e.entry_hash
            FROM ledger_entry e LEFT JOIN unnest($1::text[], $2::timestamptz[]) AS r(agreement_id, cutoff) ON r.agreement_id = e.agreement_id
            WHERE e.kind IN ('decision', 'outcome') AND e.recorded_at < coalesce(r.cutoff, $3)
            ORDER BY e.seq
            """, connection, transaction))
        {
            select.Parameters.Add(new() { Value = agreements, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            select.Parameters.Add(new() { Value = cutoffs, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            select.Parameters.Add(new() { Value = defaultCutoff });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                due.Add((reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<byte[]>(3)));
            }
        }

        var groups = due.GroupBy(d => d.Agreement).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var own = options.Agreements.TryGetValue(g.Key, out var duration);
            return new PurgeGroup(g.Key, own ? duration! : $"{options.Default} (default)", own ? Before(now, duration!, g.Key) : defaultCutoff,
                g.LongCount(), g.Min(d => d.At), g.Max(d => d.At));
        }).ToList();
        var seqs = due.Select(d => d.Seq).ToArray();
        var ranges = Ranges(seqs);
        if (dryRun || due.Count == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return new PurgeResult(groups, ranges, null);
        }

        foreach (var chunk in seqs.Chunk(10_000))
        {
            await using var blank = new NpgsqlCommand("""
                UPDATE ledger_entry SET kind = 'purged', event_id = '00000000-0000-0000-0000-000000000000', event_type = '', sender = '',
                    agreement_id = '', agreement_version = 0, recipient = '', legal_basis = '', outcome = '', reasons = '{}', disclosed = '{}',
                    withheld = '{}', payload_sha256 = NULL, idempotency_key = NULL, attempts = 0, status_code = NULL, receipt = NULL,
                    trace_id = NULL, subject_pseudonym = ''::bytea, subject_pseudonyms = '{}'
                WHERE seq = ANY($1)
                """, connection, transaction);
            blank.Parameters.Add(new() { Value = chunk });
            await blank.ExecuteNonQueryAsync(cancellationToken);
        }

        var purge = new LedgerEntry
        {
            Kind = LedgerKinds.Purge,
            EventId = Guid.Empty,
            EventType = "",
            Sender = "",
            AgreementId = "",
            AgreementVersion = 0,
            Recipient = "",
            LegalBasis = "",
            Outcome = "purged",
            Reasons = ["retention"],
            Attempts = 0,
            SubjectPseudonyms = [],
            PurgedRanges = ranges,
            PurgedDigest = Digest(due.Select(d => (d.Seq, d.Hash))),
        };
        var written = await LedgerWriter.AppendAsync(connection, transaction, [purge], keys, LedgerEntry.ToMicroseconds(now));
        await transaction.CommitAsync(cancellationToken);
        return new PurgeResult(groups, ranges, written);
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

/// <summary>Purges the ledger every <see cref="LedgerRetentionOptions.PurgeEvery"/> in the running gateway.</summary>
internal sealed partial class LedgerRetentionService(
    NpgsqlDataSource dataSource, LedgerKeys keys, Microsoft.Extensions.Options.IOptions<LedgerRetentionOptions> options, TimeProvider time, ILogger<LedgerRetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = options.Value.PurgeEvery;
        if (every <= TimeSpan.Zero)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var result = await LedgerPurge.RunAsync(dataSource, keys, options.Value, time.GetUtcNow(), dryRun: false, stoppingToken);
                if (result.PurgeEntry is { } entry)
                {
                    LogPurged(result.Entries, result.Groups.Count, entry);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                LogPurgeFailed(ex.GetType().Name, ex.Message);
            }

            await Task.Delay(every, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Ledger retention: purged {Entries} entries of {Agreements} agreement(s); purge entry {PurgeEntry}")]
    partial void LogPurged(long entries, int agreements, long purgeEntry);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger retention: purge not done ({ExceptionType}: {Problem}); tried again next time")]
    partial void LogPurgeFailed(string exceptionType, string problem);
}
