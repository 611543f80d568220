using System.CommandLine;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Ledger;
using Npgsql;

namespace IntegrationGateway.Gateway.Cli;

/// <summary>
/// <c>ledger verify</c>: recomputes the chain; exit 0 with the number of entries and the head (an anchor to keep
/// outside the database), 1 naming the first entry that does not fit. <c>ledger purge [--dry-run]</c>: blanks the
/// entries past their retention, keeping the chain verifiable.
/// </summary>
internal static class LedgerCommand
{
    public static Command Create()
    {
        var ledger = new Command("ledger", "The transfer ledger: who received what, when, on which ground.");
        ledger.Subcommands.Add(Verify());
        ledger.Subcommands.Add(Purge());
        return ledger;
    }

    static Command Verify()
    {
        var anchor = AnchorOption("ledger verify");
        var verify = new Command("verify", "Recompute the chain: exit 0 with the number of entries and the head to keep as an anchor, 1 naming the first entry that was changed, deleted or inserted.")
        {
            anchor,
        };
        verify.TreatUnmatchedTokensAsErrors = false; // --ConnectionStrings:Gateway and the like
        verify.SetAction((parse, cancellationToken) =>
        {
            var settings = CliSettings.Load(parse.UnmatchedTokens);
            var keys = LedgerKeys.FromBase64(settings.Configuration[LedgerKeys.ConfigurationKey]);
            var anchored = parse.GetValue(anchor);
            return settings.WithDatabaseAsync(parse, async (database, output) =>
            {
                LedgerVerdict verdict;
                try
                {
                    verdict = await LedgerVerifier.VerifyAsync(database, keys, anchored, cancellationToken);
                }
                catch (Exception ex) when (ex is InvalidCastException or InvalidOperationException or OverflowException or ArgumentException or PostgresException)
                {
                    // A value changed into something the entry cannot hold (e.g. a time of 'infinity'): broken, not a crash.
                    await output.WriteLineAsync($"Ledger broken: an entry could not be read ({ex.GetType().Name}); it was changed in the database.");
                    return ExitCodes.Failed;
                }

                return await ReportAsync("Ledger", verdict, output);
            });
        });
        return verify;
    }

    /// <summary>A chain's verdict as an operator reads it (the ledger's, the staff audit's): exit 0 intact, 1 broken.</summary>
    internal static async Task<int> ReportAsync(string chain, LedgerVerdict verdict, TextWriter output)
    {
        if (verdict.Intact)
        {
            var purged = verdict.Purged > 0 ? $" ({verdict.Purged} of them purged under retention, each named by a purge entry)" : "";
            await output.WriteLineAsync($"{chain} intact: {verdict.Entries} entries{purged}, each following the one before and matching its hash.");
            if (verdict.Entries > 0)
            {
                await output.WriteLineAsync($"Head (keep it outside the database; pass it as --anchor next time): {verdict.Entries}:{Convert.ToHexStringLower(verdict.Head!)}");
            }

            return ExitCodes.Ok;
        }

        await output.WriteLineAsync($"{chain} broken at entry {verdict.BrokenAt}: {verdict.Problem}. {verdict.Entries} entries before it verified.");
        return ExitCodes.Failed;
    }

    /// <summary>--anchor SEQ:HASH, checked as it is parsed: <paramref name="verb"/> names the verb in the error.</summary>
    internal static Option<(long Seq, byte[] Hash)?> AnchorOption(string verb) => new("--anchor")
    {
        Description = "SEQ:HASH of an entry printed by an earlier verify and kept outside the database: the chain must still hold it (catches entries cut off its end).",
        CustomParser = result =>
        {
            var parsed = ParseAnchor(result.Tokens.Single().Value);
            if (parsed is null)
            {
                result.AddError($"{verb}: --anchor must be SEQ:HASH as verify prints it, e.g. 1042:9f86d0…(64 hex digits)");
            }

            return parsed;
        },
    };

    static (long Seq, byte[] Hash)? ParseAnchor(string text)
    {
        var parts = text.Split(':');
        return parts.Length == 2 && long.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var seq) && seq > 0
               && parts[1].Length == 64 && parts[1].All(char.IsAsciiHexDigit)
            ? (seq, Convert.FromHexString(parts[1]))
            : null;
    }

    static Command Purge()
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Show what would be purged, change nothing." };
        var purge = new Command("purge", "Purge the entries past their retention (Ledger:Retention): each is blanked, keeping its place in the chain, and one purge entry names them; the chain still verifies.")
        {
            dryRun,
        };
        purge.TreatUnmatchedTokensAsErrors = false;
        purge.SetAction(async (parse, cancellationToken) =>
        {
            var settings = CliSettings.Load(parse.UnmatchedTokens);
            var keys = LedgerKeys.FromBase64(settings.Configuration[LedgerKeys.ConfigurationKey]);
            var retention = settings.Configuration.GetSection(LedgerRetentionOptions.Section).Get<LedgerRetentionOptions>() ?? new LedgerRetentionOptions();
            try
            {
                LedgerPurge.Validate(retention);
            }
            catch (FormatException ex)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(ex.Message);
                return ExitCodes.Usage;
            }

            var dry = parse.GetValue(dryRun);
            return await settings.WithDatabaseAsync(parse, async (database, output) =>
            {
                try
                {
                    if (!dry)
                    {
                        await settings.AuditAsync(database, Ops.OpsAudit.Actions.LedgerPurged, "ledger", "ledger purge on the command line", Ops.OpsScope.All, cancellationToken);
                    }

                    var result = await LedgerPurge.RunAsync(database, keys, retention, TimeProvider.System.GetUtcNow(), dry, cancellationToken);
                    await output.WriteLineAsync(Describe(result, retention, dry));
                    return ExitCodes.Ok;
                }
                catch (LedgerPurgeRefusedException ex)
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync(
                        $"Purge refused: {ex.Message}{(ex.Purged > 0 ? $" (before it, {ex.Purged} entries were purged under purge entries {string.Join(", ", ex.PurgeEntries)})" : "")}");
                    return ExitCodes.Failed;
                }
            });
        });
        return purge;
    }

    static string Describe(PurgeResult result, LedgerRetentionOptions retention, bool dryRun)
    {
        var text = new System.Text.StringBuilder();
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        if (result.Entries == 0)
        {
            return $"Nothing to purge: no entry is past its retention (default {retention.Default}{(retention.Agreements.Count > 0 ? $", {retention.Agreements.Count} agreement(s) with their own" : "")}).";
        }

        text.AppendLine(inv, $"{(dryRun ? "Would purge" : "Purged")} {result.Entries} ledger entries past their retention:");
        text.AppendLine(inv, $"  {"agreement",-42} {"retention",-16} {"recorded before (UTC)",-20} {"entries",8}  oldest .. newest");
        foreach (var g in result.Groups)
        {
            text.AppendLine(inv, $"  {g.AgreementId,-42} {g.Retention,-16} {g.RecordedBefore:yyyy-MM-dd HH:mm:ss} {g.Entries,8}  {g.Oldest:yyyy-MM-dd} .. {g.Newest:yyyy-MM-dd}");
        }

        var ranges = result.Ranges.Count <= 10 ? string.Join(", ", result.Ranges) : $"{string.Join(", ", result.Ranges.Take(10))} and {result.Ranges.Count - 10} more range(s)";
        text.Append(inv, $"Entries: {ranges}. ");
        text.Append(dryRun
            ? "Nothing was changed (dry run)."
            : $"Each was blanked, keeping its place in the chain; {(result.PurgeEntries.Count == 1 ? "purge entry" : "purge entries")} {string.Join(", ", result.PurgeEntries)} {(result.PurgeEntries.Count == 1 ? "names" : "name")} them. 'ledger verify' checks the chain across them.");
        return text.ToString();
    }
}
