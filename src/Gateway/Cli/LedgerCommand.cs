using System.CommandLine;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Ledger;
using Npgsql;

namespace IntegrationGateway.Gateway.Cli;

/// <summary><c>ledger verify</c>: recomputes the chain; exit 0 with the number of entries, 1 naming the first entry that does not fit.</summary>
internal static class LedgerCommand
{
    public static Command Create()
    {
        var ledger = new Command("ledger", "The transfer ledger: who received what, when, on which ground.");
        var verify = new Command("verify", "Recompute the chain: exit 0 with the number of entries, 1 naming the first entry that was changed, deleted or inserted.")
        {
            TreatUnmatchedTokensAsErrors = false, // --ConnectionStrings:Gateway and the like
        };
        verify.SetAction((parse, cancellationToken) =>
        {
            var settings = CliSettings.Load(parse.UnmatchedTokens);
            var keys = LedgerKeys.FromBase64(settings.Configuration[LedgerKeys.ConfigurationKey]);
            return settings.WithDatabaseAsync(parse, async (database, output) =>
            {
                LedgerVerdict verdict;
                try
                {
                    verdict = await LedgerVerifier.VerifyAsync(database, keys, cancellationToken);
                }
                catch (Exception ex) when (ex is InvalidCastException or InvalidOperationException or OverflowException or ArgumentException or PostgresException)
                {
                    // A value changed into something the entry cannot hold (e.g. a time of 'infinity'): broken, not a crash.
                    await output.WriteLineAsync($"Ledger broken: an entry could not be read ({ex.GetType().Name}); it was changed in the database.");
                    return ExitCodes.Failed;
                }

                if (verdict.Intact)
                {
                    await output.WriteLineAsync($"Ledger intact: {verdict.Entries} entries, each following the one before and matching its hash.");
                    return ExitCodes.Ok;
                }

                await output.WriteLineAsync($"Ledger broken at entry {verdict.BrokenAt}: {verdict.Problem}. {verdict.Entries} entries before it verified.");
                return ExitCodes.Failed;
            });
        });
        ledger.Subcommands.Add(verify);
        return ledger;
    }
}
