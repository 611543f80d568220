using IntegrationGateway.Gateway.Cli;

namespace IntegrationGateway.Tests;

/// <summary>Runs the gateway's command line as a user does: arguments in, text and exit code out.</summary>
internal static class CliRunner
{
    public static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await GatewayCli.InvokeAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
