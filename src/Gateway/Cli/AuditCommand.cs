using System.CommandLine;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Ops;

namespace IntegrationGateway.Gateway.Cli;

/// <summary><c>audit verify</c>: recomputes the staff audit's chain; exit 0 with its length and head, 1 naming the first row that was changed, deleted or inserted.</summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        var audit = new Command("audit", "The staff audit: who signed in, viewed a subject report, replayed, changed a route, opened the quarantine or purged the ledger.");
        var anchor = LedgerCommand.AnchorOption("audit verify");
        var verify = new Command("verify", "Recompute the audit's chain (keyed with Ledger:Key): exit 0 with the number of rows and the head to keep as an anchor, 1 naming the first row that was changed, deleted or inserted.")
        {
            anchor,
        };
        verify.TreatUnmatchedTokensAsErrors = false; // --ConnectionStrings:Gateway and the like
        verify.SetAction((parse, cancellationToken) =>
        {
            var settings = CliSettings.Load(parse.UnmatchedTokens);
            var keys = LedgerKeys.FromBase64(settings.Configuration[LedgerKeys.ConfigurationKey]);
            return settings.WithDatabaseAsync(parse, async (database, output) =>
                await LedgerCommand.ReportAsync("Audit", await new OpsAudit(database, keys, TimeProvider.System).VerifyAsync(parse.GetValue(anchor), cancellationToken), output));
        });
        audit.Subcommands.Add(verify);
        return audit;
    }
}
