using System.CommandLine;
using System.Globalization;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Sealing;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace IntegrationGateway.Gateway.Cli;

/// <summary>
/// <c>quarantine list | republish | open</c>: what the intake refused and why, sending messages back once the cause
/// is fixed, and handing one to the publisher's support. Reads the quarantine queue without taking anything off it
/// except what is republished (acknowledged only after the broker confirmed the republish).
/// </summary>
internal static class QuarantineCommand
{
    public static Command Create()
    {
        var quarantine = new Command("quarantine", "Messages the intake refused: list them (reasons, never values), republish them, open one.");
        quarantine.Subcommands.Add(List());
        quarantine.Subcommands.Add(Republish());
        quarantine.Subcommands.Add(Open());
        return quarantine;
    }

    static Option<string?> RuleOption() => new("--rule") { Description = "Only messages quarantined for this rule (e.g. bsn-checksum)." };

    static Option<Guid?> EventIdOption() => new("--event-id") { Description = "Only the message of this event." };

    static Command List()
    {
        var rule = RuleOption();
        var command = new Command("list", "Each quarantined message: when, event type and id, the field path and rule; then counts by rule.") { rule };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, cancellationToken) => WithQueueAsync(parse, async (session, output) =>
        {
            var messages = (await session.PeekAsync(cancellationToken)).Where(m => Matches(m, parse.GetValue(rule), null)).ToList();
            foreach (var m in messages)
            {
                await output.WriteLineAsync($"{m.QuarantinedAt ?? "-",-33} {m.EventType ?? "(unknown type)",-28} {m.EventId ?? "-",-36} {m.Reasons}");
            }

            await output.WriteLineAsync($"{messages.Count} message(s) in {session.Queue}" +
                (messages.Count == 0 ? "" : ": " + string.Join(", ", messages.GroupBy(m => m.Rule).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"))));
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    static Command Republish()
    {
        var rule = RuleOption();
        var eventId = EventIdOption();
        var all = new Option<bool>("--all") { Description = "Every quarantined message." };
        var type = new Option<string?>("--type") { Description = "Publish as this event type (for messages refused for a missing or unknown type)." };
        var command = new Command("republish", "Open the selected messages and publish them to the intake again, as they were sent; each leaves the quarantine once the broker confirmed it.")
        {
            rule, eventId, all, type,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.Validators.Add(r =>
        {
            if (!r.GetValue(all) && r.GetValue(rule) is null && r.GetValue(eventId) is null)
            {
                r.AddError("quarantine republish: choose what with --rule, --event-id or --all");
            }
        });
        command.SetAction((parse, cancellationToken) => WithQueueAsync(parse, async (session, output) =>
        {
            // Under each message's own publisher (its user_id): only the republisher, a broker user with the impersonator
            // tag and write on the intake exchange alone, may set another user's. Never the gateway's own user.
            var (configuration, broker, _) = CliSettings.Load(parse.UnmatchedTokens);
            if (configuration["Quarantine:Republisher:Username"] is not { Length: > 0 } user || configuration["Quarantine:Republisher:Password"] is not { Length: > 0 } password)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(
                    "quarantine republish needs Quarantine:Republisher:Username and :Password: a broker user with the impersonator tag that may write to the intake exchange only (deploy/local/up.sh makes one; source deploy/local/env.sh).");
                return ExitCodes.Failed;
            }

            await using var republisher = await RabbitMqConnections.OpenAsync(broker.As(user, password), "integration-gateway-republisher", cancellationToken);
            await using var publishTo = await Quarantine.ConfirmingChannelAsync(republisher, cancellationToken);
            var messages = await session.PeekAsync(cancellationToken);
            var chosen = messages.Where(m => Matches(m, parse.GetValue(rule), parse.GetValue(eventId))).ToList();
            var selection = parse.GetValue(eventId) is { } one ? $"event {one:D}" : parse.GetValue(rule) is { } byRule ? $"rule {byRule}" : "all";
            var audited = await CliSettings.Load(parse.UnmatchedTokens).AuditFirstAsync(parse, Ops.OpsAudit.Actions.QuarantineRepublished, selection,
                $"{chosen.Count} message(s) selected{(parse.GetValue(type) is { } asType ? $", as {asType}" : "")}", cancellationToken);
            if (audited != ExitCodes.Ok)
            {
                return audited;
            }

            var republished = 0;
            foreach (var m in chosen)
            {
                var eventType = parse.GetValue(type) ?? m.EventType;
                if (eventType is null)
                {
                    await output.WriteLineAsync($"skipped {m.EventId ?? "a message"}: its type is not known; give --type");
                    continue;
                }

                await session.RepublishAsync(m, eventType, publishTo, cancellationToken);
                republished++;
            }

            await output.WriteLineAsync($"Republished {republished} of {chosen.Count} selected message(s) to '{session.IntakeExchange}'; {messages.Count - republished} left in {session.Queue}.");
            return republished == chosen.Count ? ExitCodes.Ok : ExitCodes.Failed;
        }, cancellationToken));
        return command;
    }

    static Command Open()
    {
        var eventId = EventIdOption();
        eventId.Required = true;
        var outFile = new Option<FileInfo>("--out") { Description = "A new file to write the message to, as it was sent. It holds personal data: the file is readable by its owner only.", Required = true };
        var command = new Command("open", "Write one quarantined message, as it was sent, to a file (for the publisher's support); it stays in the quarantine.") { eventId, outFile };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, cancellationToken) => WithQueueAsync(parse, async (session, output) =>
        {
            var wanted = parse.GetValue(eventId)!.Value.ToString("D");
            var message = (await session.PeekAsync(cancellationToken)).FirstOrDefault(m => m.EventId == wanted);
            if (message is null)
            {
                await output.WriteLineAsync($"No quarantined message of event {wanted} in {session.Queue}.");
                return ExitCodes.Failed;
            }

            var path = parse.GetValue(outFile)!.FullName;
            // The message holds personal data: who opened it is in the staff audit before the file exists.
            var audited = await CliSettings.Load(parse.UnmatchedTokens).AuditFirstAsync(parse, Ops.OpsAudit.Actions.QuarantineOpened, $"event {wanted}", $"{message.Reasons}; written to a file", cancellationToken);
            if (audited != ExitCodes.Ok)
            {
                return audited;
            }

            // A new file only: an existing one would keep whatever permissions it had.
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using (var file = new FileStream(path, options))
            {
                await file.WriteAsync(session.Seal.Open(message.Sealed), cancellationToken);
            }

            await output.WriteLineAsync($"Wrote event {wanted} ({message.Reasons}) to {path}; it holds personal data: delete it when done.");
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    static bool Matches(QuarantinedMessage m, string? rule, Guid? eventId) =>
        (rule is null || m.Rule == rule) && (eventId is null || m.EventId == eventId.Value.ToString("D"));

    static async Task<int> WithQueueAsync(ParseResult parse, Func<Quarantine, TextWriter, Task<int>> action, CancellationToken cancellationToken)
    {
        var (configuration, broker, intake) = CliSettings.Load(parse.UnmatchedTokens);
        var error = parse.InvocationConfiguration.Error;
        try
        {
            // Every message is held unacknowledged while the verb runs: what it does not republish goes back, in order,
            // when the channel closes.
            await using var connection = await RabbitMqConnections.OpenAsync(broker, "integration-gateway-quarantine", cancellationToken);
            await using var channel = await Quarantine.ConfirmingChannelAsync(connection, cancellationToken);
            var quarantine = new Quarantine(channel, intake, Sealer.FromBase64(configuration[Sealer.ConfigurationKey]), TimeProvider.System);
            return await action(quarantine, parse.InvocationConfiguration.Output);
        }
        catch (BrokerUnreachableException ex)
        {
            await error.WriteLineAsync($"RabbitMQ is not reachable at {broker.Address}: {ex.InnerException?.Message ?? ex.Message}");
            return ExitCodes.Failed;
        }
        catch (OperationInterruptedException ex)
        {
            await error.WriteLineAsync($"RabbitMQ at {broker.Address}: {ex.ShutdownReason?.ReplyText ?? ex.Message}");
            return ExitCodes.Failed;
        }
        catch (System.Security.Cryptography.AuthenticationTagMismatchException)
        {
            await error.WriteLineAsync("A quarantined message does not open with Sealing:Key: it was sealed under another key (see its x-sealed header).");
            return ExitCodes.Failed;
        }
    }
}
