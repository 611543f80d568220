using System.CommandLine;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace IntegrationGateway.Gateway.Cli;

/// <summary>
/// <c>recipients list | enable</c>: each recipient's route (enabled, or disabled since when and why) and its parked
/// transfers by state; enabling a route sends its held transfers on their way again.
/// </summary>
internal static class RecipientsCommand
{
    public static Command Create(TimeProvider time)
    {
        var recipients = new Command("recipients", "Recipients' routes and parked transfers: list them, enable a disabled route.");
        var list = new Command("list", "Routes (disabled ones with when and why) and parked transfers per recipient and state.") { TreatUnmatchedTokensAsErrors = false };
        list.SetAction((parse, cancellationToken) => CliSettings.Load(parse.UnmatchedTokens).WithDatabaseAsync(parse, async (database, output) =>
        {
            var parked = await ParkedTransfers.CountsAsync(database, cancellationToken);
            await using var command = database.CreateCommand("SELECT recipient, disabled_at, reason FROM recipient_route WHERE disabled_at IS NOT NULL ORDER BY recipient");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var disabled = new List<string>();
            while (await reader.ReadAsync(cancellationToken))
            {
                disabled.Add($"{reader.GetString(0)}: disabled since {reader.GetFieldValue<DateTimeOffset>(1):u} ({reader.GetString(2)})");
            }

            foreach (var line in disabled)
            {
                await output.WriteLineAsync(line);
            }

            foreach (var (recipient, state, count) in parked)
            {
                await output.WriteLineAsync($"{recipient}: {count} parked, {state}");
            }

            await output.WriteLineAsync($"{disabled.Count} route(s) disabled; {parked.Sum(p => p.Count)} transfer(s) parked.");
            return ExitCodes.Ok;
        }));

        var id = new Argument<string>("RECIPIENT") { Description = "The recipient id, as agreements name it (e.g. duo)." };
        var enable = new Command("enable", "Enable a disabled route; its held transfers become due at once.") { id };
        enable.TreatUnmatchedTokensAsErrors = false;
        enable.SetAction((parse, cancellationToken) =>
        {
            var settings = CliSettings.Load(parse.UnmatchedTokens);
            return settings.WithDatabaseAsync(parse, async (database, output) =>
        {
            var recipient = parse.GetValue(id)!;
            await settings.AuditAsync(database, Ops.OpsAudit.Actions.RecipientEnabled, recipient, "on the command line", Ops.OpsScope.All, cancellationToken);
            var enabled = await new RecipientRoutes(database, time, NullLogger<RecipientRoutes>.Instance).EnableAsync(recipient, cancellationToken);
            var released = await ParkedTransfers.ReleaseAsync(database, time, recipient, cancellationToken);
            await output.WriteLineAsync(enabled
                ? $"Enabled the route to {recipient}; {released} held transfer(s) are due now."
                : $"The route to {recipient} was not disabled; {released} held transfer(s) released.");
            return ExitCodes.Ok;
        });
        });

        recipients.Subcommands.Add(list);
        recipients.Subcommands.Add(enable);
        return recipients;
    }
}
