using System.CommandLine;
using IntegrationGateway.Gateway.Hosting;
using Npgsql;

namespace IntegrationGateway.Gateway.Cli;

/// <summary>
/// What a verb that talks to the broker or the database reads, as the service reads it: appsettings.json, the
/// environment, then <c>--Section:Key value</c> tokens from the command line.
/// </summary>
internal sealed record CliSettings(IConfiguration Configuration, RabbitMqOptions Broker, IntakeOptions Intake)
{
    public static CliSettings Load(IEnumerable<string> tokens)
    {
        var configuration = GatewayConfiguration.Load([.. tokens]);
        return new CliSettings(
            configuration,
            configuration.GetSection(RabbitMqOptions.Section).Get<RabbitMqOptions>() ?? new RabbitMqOptions(),
            configuration.GetSection(IntakeOptions.Section).Get<IntakeOptions>() ?? new IntakeOptions());
    }

    /// <summary>
    /// Writes to the staff audit, as <see cref="Ops.OpsAudit.CommandLineActor"/>, what a revealing or changing verb is
    /// about to do: written before it does it, so nothing is revealed or changed that the audit does not show.
    /// </summary>
    public Task AuditAsync(NpgsqlDataSource database, string action, string target, string detail, Ops.OpsScope scope, CancellationToken cancellationToken) =>
        new Ops.OpsAudit(database, Ledger.LedgerKeys.FromBase64(Configuration[Ledger.LedgerKeys.ConfigurationKey]), TimeProvider.System)
            .RecordAsync(Ops.OpsAudit.CommandLineActor, action, target, detail, scope, cancellationToken);

    /// <summary>
    /// For a verb whose effect is outside the database (a file written, messages sent): the audit row first, on the
    /// database, and nothing done without it. <see cref="ExitCodes.Ok"/> once it is written.
    /// </summary>
    public async Task<int> AuditFirstAsync(ParseResult parse, string action, string target, string detail, CancellationToken cancellationToken)
    {
        var audited = await WithDatabaseAsync(parse, async (database, _) =>
        {
            await AuditAsync(database, action, target, detail, Ops.OpsScope.All, cancellationToken);
            return ExitCodes.Ok;
        });
        if (audited != ExitCodes.Ok)
        {
            await parse.InvocationConfiguration.Error.WriteLineAsync($"Nothing done: this verb records who did what in the staff audit first ({action}), and could not.");
        }

        return audited;
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the gateway's database; a missing connection string or a database that does
    /// not answer is an error naming the server (never the password), exit 1.
    /// </summary>
    public async Task<int> WithDatabaseAsync(ParseResult parse, Func<NpgsqlDataSource, TextWriter, Task<int>> action)
    {
        var connectionString = Configuration.GetConnectionString("Gateway");
        if (connectionString is null)
        {
            await parse.InvocationConfiguration.Error.WriteLineAsync("ConnectionStrings:Gateway is not set.");
            return ExitCodes.Failed;
        }

        try
        {
            await using var database = NpgsqlDataSource.Create(connectionString);
            return await action(database, parse.InvocationConfiguration.Output);
        }
        catch (NpgsqlException ex)
        {
            await parse.InvocationConfiguration.Error.WriteLineAsync($"{Health.PostgresHealthCheck.Describe(connectionString)}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }
}
