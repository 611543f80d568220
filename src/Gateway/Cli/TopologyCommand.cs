using System.CommandLine;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Intake;
using RabbitMQ.Client.Exceptions;

namespace IntegrationGateway.Gateway.Cli;

/// <summary>
/// <c>topology declare</c>: creates the intake's exchanges, queues and bindings (durable, idempotent) and exits, for
/// deployments that set up the broker before any gateway or publisher starts. The gateway declares the same at
/// every start.
/// </summary>
internal static class TopologyCommand
{
    public static Command Create()
    {
        var topology = new Command("topology", "The intake's place on the broker.");
        var declare = new Command("declare", "Declare the intake exchange and queue, the contract exchanges bound to it (also under each controller publisher's prefix), and the quarantine queue; then exit.")
        {
            TreatUnmatchedTokensAsErrors = false, // --RabbitMq:Host and the like
        };
        declare.SetAction(async (parse, cancellationToken) =>
        {
            var (configuration, broker, intake) = CliSettings.Load(parse.UnmatchedTokens);
            var (controllers, _) = Policy.ControllerLoader.LoadDirectory(ControllersOptions.DirectoryIn(configuration));
            var publishers = controllers.SelectMany(c => c.BrokerUsers).ToList();
            IReadOnlyList<string> refused;
            try
            {
                await using var connection = await RabbitMqConnections.OpenAsync(broker, "integration-gateway-topology", cancellationToken);
                refused = await IntakeTopology.DeclareAsync(connection, intake, publishers, cancellationToken);
            }
            catch (Exception ex) when (ex is BrokerUnreachableException or OperationInterruptedException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(
                    $"RabbitMQ at {broker.Address}: {(ex as OperationInterruptedException)?.ShutdownReason?.ReplyText ?? ex.InnerException?.Message ?? ex.Message}");
                return ExitCodes.Failed;
            }

            await parse.InvocationConfiguration.Output.WriteLineAsync(
                $"Declared at {broker.Address}: exchange and queue '{intake.QueueName}', {EventCatalogueCount} contract exchanges bound to it and as many for each of {publishers.Count} controller publisher(s){(refused.Count > 0 ? $" (not for {string.Join(", ", refused)}: an exchange of theirs is of another kind)" : "")}, " +
                $"'{IntakeTopology.QuarantineQueue(intake)}'.");
            return ExitCodes.Ok;
        });
        topology.Subcommands.Add(declare);
        return topology;
    }

    static int EventCatalogueCount => Policy.EventCatalogue.Default.Types.Count;
}
