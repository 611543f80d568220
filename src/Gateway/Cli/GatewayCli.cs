using System.CommandLine;
using IntegrationGateway.Gateway.Demo;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Policy;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Cli;

/// <summary>
/// The gateway executable's verbs. With no verb it runs the service. Every verb has <c>--help</c> and returns
/// one of <see cref="ExitCodes"/>.
/// </summary>
public static class GatewayCli
{
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("IntegrationGateway: routes school and agency events to public bodies, on a legal ground, with the minimum data.");
        var run = new Command("run", "Run the gateway service (the default when no verb is given).") { TreatUnmatchedTokensAsErrors = false };
        run.SetAction((parse, _) => RunServiceAsync([.. parse.UnmatchedTokens]));
        root.Subcommands.Add(run);
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(PolicyCommand.Create(TimeProvider.System));
        root.Subcommands.Add(EventsCommand.Create(TimeProvider.System));
        root.Subcommands.Add(QuarantineCommand.Create());
        root.Subcommands.Add(TopologyCommand.Create());
        root.Subcommands.Add(RecipientsCommand.Create(TimeProvider.System));
        root.Subcommands.Add(LedgerCommand.Create());
        root.Subcommands.Add(AuditCommand.Create());
        root.Subcommands.Add(SubjectCommand.Create());
        root.Subcommands.Add(OpsCommand.Create());
        root.TreatUnmatchedTokensAsErrors = false;
        root.SetAction((parse, _) => RunServiceAsync([.. parse.UnmatchedTokens]));
        return root;
    }

    /// <summary>Standard input as the verbs read it (a secret or identifier typed or piped, never on the command line); a caller of <see cref="InvokeAsync"/> may give its own.</summary>
    internal static TextReader Input => InputOverride.Value ?? Console.In;

    static readonly AsyncLocal<TextReader?> InputOverride = new();

    public static async Task<int> InvokeAsync(string[] args, TextWriter? output = null, TextWriter? error = null, TextReader? input = null)
    {
        InputOverride.Value = input;
        var parse = CreateRoot().Parse(args);
        error ??= Console.Error;
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors)
            {
                await error.WriteLineAsync(problem.Message);
            }

            await error.WriteLineAsync("Run with --help for usage.");
            return ExitCodes.Usage;
        }

        if (FirstStrayToken(parse.UnmatchedTokens) is { } stray)
        {
            await error.WriteLineAsync($"Unknown verb or argument '{stray}'. Run with --help for usage.");
            return ExitCodes.Usage;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                // The host handles SIGTERM and Ctrl-C itself and drains in-flight messages; the parser must not
                // cut that short.
                ProcessTerminationTimeout = null,
                Output = output ?? Console.Out,
                Error = error,
                EnableDefaultExceptionHandler = false,
            });
        }
        catch (UnsafeSettingsException ex)
        {
            await error.WriteLineAsync($"The gateway will not start: {ex.Message}");
            return ExitCodes.Failed;
        }
        catch (AgreementsInvalidException ex)
        {
            await error.WriteLineAsync($"The gateway will not start: {ex.Message}");
            return ExitCodes.Failed;
        }
        catch (GatewayStartException ex)
        {
            await error.WriteLineAsync($"The gateway could not start: {ex.Message}");
            return ExitCodes.Failed;
        }
        catch (Exception ex) when (ex is OptionsValidationException or InvalidOperationException or IOException or ArgumentException
                                       or AggregateException { TargetSite.DeclaringType.Namespace: "Microsoft.Extensions.DependencyInjection" })
        {
            await error.WriteLineAsync($"The gateway stopped on an error: {Describe(ex)}");
            return ExitCodes.Failed;
        }
        catch (Exception ex)
        {
            // Unexpected: the type and where it came from, not the message, which could quote data.
            await error.WriteLineAsync($"The gateway stopped on an unexpected {ex.GetType().FullName} at {ex.TargetSite?.DeclaringType?.FullName}.{ex.TargetSite?.Name}");
            return ExitCodes.Failed;
        }
    }

    static async Task<int> RunServiceAsync(string[] hostArgs)
    {
        await using var app = GatewayApp.Build(hostArgs);
        await app.StartGatewayAsync();
        await app.WaitForShutdownAsync();
        return ExitCodes.Ok;
    }

    static readonly string[] HostSwitches = ["--urls", "--environment", "--contentRoot", "--applicationName"];

    /// <summary>
    /// Tokens the verbs do not know go to the host as configuration: a key with a section (<c>--RabbitMq:Port=5672</c>)
    /// or one of the host's own switches (<c>--urls http://127.0.0.1:5071</c>). Anything else, such as a mistyped verb
    /// or option, is refused rather than silently ignored.
    /// </summary>
    internal static string? FirstStrayToken(IReadOnlyList<string> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var key = token.Split('=', 2)[0];
            if (!token.StartsWith("--", StringComparison.Ordinal)
                || !(key.Contains(':', StringComparison.Ordinal) || HostSwitches.Contains(key, StringComparer.OrdinalIgnoreCase)))
            {
                return token;
            }

            if (!token.Contains('=', StringComparison.Ordinal) && i + 1 < tokens.Count && !tokens[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                i++; // the setting's value
            }
        }

        return null;
    }

    static string Describe(Exception ex)
    {
        var messages = new List<string>();
        for (var e = ex; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
        }

        return string.Join(" -> ", messages.Distinct());
    }
}
