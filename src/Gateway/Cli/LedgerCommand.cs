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
        verify.SetAction(async (parse, cancellationToken) =>
        {
            var configuration = GatewayConfiguration.Load([.. parse.UnmatchedTokens]);
            var connectionString = configuration.GetConnectionString("Gateway") ?? throw new InvalidOperationException("ConnectionStrings:Gateway is not set.");
            var keys = LedgerKeys.FromBase64(configuration[LedgerKeys.ConfigurationKey]);
            await using var database = NpgsqlDataSource.Create(connectionString);
            LedgerVerdict verdict;
            try
            {
                verdict = await LedgerVerifier.VerifyAsync(database, keys, cancellationToken);
            }
            catch (NpgsqlException ex) when (ex is not PostgresException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"{Health.PostgresHealthCheck.Describe(connectionString)}: {ex.Message}");
                return ExitCodes.Failed;
            }
            catch (Exception ex) when (ex is InvalidCastException or InvalidOperationException or OverflowException or ArgumentException or PostgresException)
            {
                // A value changed into something the entry cannot hold (e.g. a time of 'infinity'): broken, not a crash.
                await parse.InvocationConfiguration.Output.WriteLineAsync($"Ledger broken: an entry could not be read ({ex.GetType().Name}); it was changed in the database.");
                return ExitCodes.Failed;
            }

            if (verdict.Intact)
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync($"Ledger intact: {verdict.Entries} entries, each following the one before and matching its hash.");
                return ExitCodes.Ok;
            }

            await parse.InvocationConfiguration.Output.WriteLineAsync($"Ledger broken at entry {verdict.BrokenAt}: {verdict.Problem}. {verdict.Entries} entries before it verified.");
            return ExitCodes.Failed;
        });
        ledger.Subcommands.Add(verify);
        return ledger;
    }
}
