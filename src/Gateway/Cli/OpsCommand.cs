using System.CommandLine;
using IntegrationGateway.Gateway.Ops;

namespace IntegrationGateway.Gateway.Cli;

/// <summary><c>ops hash-password</c>: the hash of a password read from standard input, for <c>Ops:Users:&lt;name&gt;:PasswordHash</c>.</summary>
internal static class OpsCommand
{
    public static Command Create()
    {
        var ops = new Command("ops", "The ops web app.");
        var hash = new Command("hash-password", "Read a password from standard input (one line) and print its hash for Ops:Users:<name>:PasswordHash. The password is not echoed or stored.");
        hash.SetAction(async (parse, cancellationToken) =>
        {
            var password = await Console.In.ReadLineAsync(cancellationToken);
            if (string.IsNullOrEmpty(password) || password.Length < 12)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("ops hash-password: give a password of at least 12 characters on standard input, e.g. 'read -rs pw && echo \"$pw\" | ... ops hash-password'.");
                return ExitCodes.Usage;
            }

            await parse.InvocationConfiguration.Output.WriteLineAsync(OpsAccess.HashPassword(password));
            return ExitCodes.Ok;
        });
        ops.Subcommands.Add(hash);
        return ops;
    }
}
