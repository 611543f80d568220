using System.CommandLine;
using System.Text.Json;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Intake;
using RabbitMQ.Client.Exceptions;

namespace IntegrationGateway.Gateway.Cli;

/// <summary>
/// <c>events publish</c>: sends event files, or generated events, to the intake exchange as raw JSON, the way the
/// publishing guide tells any publisher to: persistent, confirmed, mandatory. Each event is checked as the intake
/// would check it first, and nothing is sent unless all pass (<c>--skip-validation</c> sends them as they are, to
/// exercise the quarantine).
/// </summary>
internal static class PublishCommand
{
    public static Command Create(TimeProvider time)
    {
        var type = CliOptions.EventType(allowAll: true);
        var files = new Argument<string[]>("FILE")
        {
            Description = "Events to send: a file holds one JSON event, or JSON lines (one event per line, as 'events generate' prints them).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var generate = new Option<int?>("--generate") { Description = "Send this many generated events instead of files." };
        var seed = new Option<int>("--seed") { Description = "Seed of the generated events.", DefaultValueFactory = _ => 1 };
        var skipValidation = new Option<bool>("--skip-validation") { Description = "Send events the intake will refuse (they end in its quarantine)." };
        var asUser = new Option<string?>("--as")
        {
            Description = "Publish every event as this broker user (default: each as the broker user of the controller its source.institutionId names, from Controllers:Directory).",
        };
        var passwordFile = new Option<FileInfo>("--password-file")
        {
            Description = "With --as: the user's password, in a file (default: <Publishers:SecretsDirectory>/<user>.password, as deploy/local makes them).",
        };
        passwordFile.AcceptExistingOnly();
        var command = new Command("publish", "Publish events to the intake exchange (raw JSON; publisher confirms; mandatory). The broker and exchange come from RabbitMq:* and Intake:QueueName, as for the service.")
        {
            type, files, generate, seed, skipValidation, asUser, passwordFile,
        };
        command.TreatUnmatchedTokensAsErrors = false; // --RabbitMq:Port 5672 and the like
        command.Validators.Add(r =>
        {
            var (paths, _) = Split(r.GetValue(files) ?? []);
            var hasFiles = paths.Count > 0;
            var count = r.GetValue(generate);
            if (paths.FirstOrDefault(p => !File.Exists(p)) is { } missing)
            {
                r.AddError($"events publish: file '{missing}' does not exist");
            }
            else if (hasFiles == count.HasValue)
            {
                r.AddError("events publish: give FILEs or --generate N, not both and not neither");
            }
            else if (count is < 1 or > 1_000_000)
            {
                r.AddError("--generate must be between 1 and 1000000");
            }
            else if (r.GetValue(passwordFile) is not null && r.GetValue(asUser) is null)
            {
                r.AddError("events publish: --password-file goes with --as");
            }
            else if (hasFiles && r.GetValue(type) == "all")
            {
                r.AddError("events publish: files need one event type (--type T); 'all' is for --generate");
            }
        });
        command.SetAction((parse, cancellationToken) =>
        {
            var eventType = parse.GetValue(type)!;
            var (paths, settings) = Split(parse.GetValue(files) ?? []);
            var events = parse.GetValue(generate) is { } count
                ? Generated(eventType, count, parse.GetValue(seed), time)
                : paths.SelectMany(f => Read(new FileInfo(f), eventType));
            return PublishAsync(parse, [.. events], parse.GetValue(generate).HasValue, [.. settings, .. parse.UnmatchedTokens], !parse.GetValue(skipValidation), (parse.GetValue(asUser), parse.GetValue(passwordFile)), time, cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// The FILE argument also takes in settings written after the files (<c>--RabbitMq:Port 5672</c>, as for the
    /// service); they are told apart here: a token <c>--Section:Key</c>, with <c>=value</c> or the next token as value.
    /// </summary>
    static (List<string> Files, List<string> Settings) Split(IReadOnlyList<string> tokens)
    {
        var paths = new List<string>();
        var settings = new List<string>();
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var name = token.Split('=', 2)[0];
            if (!token.StartsWith("--", StringComparison.Ordinal) || !(name.Contains(':', StringComparison.Ordinal) || name == "--environment"))
            {
                paths.Add(token);
                continue;
            }

            settings.Add(token);
            if (!token.Contains('=', StringComparison.Ordinal) && i + 1 < tokens.Count)
            {
                settings.Add(tokens[++i]);
            }
        }

        return (paths, settings);
    }

    sealed record Outgoing(string Origin, string EventType, byte[] Json);

    static IEnumerable<Outgoing> Generated(string eventType, int count, int seed, TimeProvider time)
    {
        var types = eventType == "all" ? SampleEventGenerator.EventTypes : [eventType];
        var generator = new SampleEventGenerator(seed, time);
        for (var i = 0; i < count; i++)
        {
            var t = types[i % types.Count];
            yield return new($"generated #{i + 1}", t, JsonSerializer.SerializeToUtf8Bytes(generator.Next(t), EventJson.ContractType(t), EventJsonContext.Default));
        }
    }

    /// <summary>One JSON event per file, or JSON lines: a file that is not one JSON value is read line by line.</summary>
    static IEnumerable<Outgoing> Read(FileInfo file, string eventType)
    {
        var bytes = File.ReadAllBytes(file.FullName);
        if (IsOneJsonValue(bytes))
        {
            return [new(file.Name, eventType, bytes)];
        }

        return File.ReadAllLines(file.FullName)
            .Select((line, i) => (line, i))
            .Where(l => l.line.Trim().Length > 0)
            .Select(l => new Outgoing($"{file.Name}:{l.i + 1}", eventType, System.Text.Encoding.UTF8.GetBytes(l.line)));
    }

    static bool IsOneJsonValue(byte[] bytes)
    {
        try
        {
            using var _ = JsonDocument.Parse(bytes);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    static async Task<int> PublishAsync(ParseResult parse, IReadOnlyList<Outgoing> events, bool synthetic, string[] settings, bool validate, (string? User, FileInfo? PasswordFile) publishAs, TimeProvider time, CancellationToken cancellationToken)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        var (configuration, broker, intake) = CliSettings.Load(settings);
        if (synthetic && GatewayConfiguration.SyntheticDataRefusal("events publish --generate", GatewayConfiguration.EnvironmentName(configuration)) is { } refusal)
        {
            await error.WriteLineAsync(refusal);
            return ExitCodes.Failed;
        }

        if (validate)
        {
            var validator = new EventValidator(time, intake.MaxMessageBytes);
            var invalid = 0;
            foreach (var e in events)
            {
                var violations = validator.Validate(e.EventType, e.Json);
                foreach (var violation in violations)
                {
                    await error.WriteLineAsync($"{e.Origin}: {violation}");
                }

                invalid += violations.Count > 0 ? 1 : 0;
            }

            if (invalid > 0)
            {
                await error.WriteLineAsync($"Nothing published: {invalid} of {events.Count} event(s) invalid (--skip-validation sends them anyway, into the quarantine).");
                return ExitCodes.Failed;
            }
        }

        var published = 0;
        try
        {
            var (controllers, _) = Policy.ControllerLoader.LoadDirectory(ControllersOptions.DirectoryIn(configuration));
            var passwords = publishAs.PasswordFile is { } file
                ? _ => File.ReadAllText(file.FullName).Trim()
                : ControllerPublishers.PasswordsIn(configuration);
            await using var publisher = new ControllerPublishers(broker, intake, new Policy.ControllerRegistry(controllers), passwords, publishAs.User);
            foreach (var e in events)
            {
                var (eventId, institution) = IdentityOf(e.Json);
                await publisher.PublishAsync(e.EventType, e.Json, eventId, institution, cancellationToken);
                published++;
            }

            await output.WriteLineAsync($"Published {published} event(s) to exchange '{IntakeTopology.ExchangeName(intake)}' at {broker.Address} as {string.Join(", ", publisher.Published.Select(p => $"{p.Key} ({p.Value})"))}; the broker confirmed each.");
            return ExitCodes.Ok;
        }
        catch (BrokerUnreachableException ex)
        {
            await error.WriteLineAsync($"RabbitMQ is not reachable at {broker.Address}: {ex.InnerException?.Message ?? ex.Message}");
            return ExitCodes.Failed;
        }
        catch (IntakePublishException ex)
        {
            await error.WriteLineAsync($"{ex.Message} {published} of {events.Count} event(s) had been published.");
            return ExitCodes.Failed;
        }
    }

    /// <summary>
    /// From one parse: the event id when the JSON has a well-formed one (the AMQP message id), and the sending
    /// institution (whose controller's broker user publishes it); null and empty for what is not JSON.
    /// </summary>
    static (Guid? EventId, string Institution) IdentityOf(byte[] json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var eventId = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("eventId", out var id)
                && id.ValueKind == JsonValueKind.String && id.TryGetGuid(out var guid) ? guid : (Guid?)null;
            return (eventId, Policy.EventFacts.InstitutionOf(root));
        }
        catch (JsonException)
        {
            return (null, "");
        }
    }
}
