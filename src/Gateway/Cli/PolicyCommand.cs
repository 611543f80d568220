using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;

namespace IntegrationGateway.Gateway.Cli;

/// <summary><c>policy lint | evaluate | register</c>: the agreements as data-protection officers and operators check them.</summary>
internal static class PolicyCommand
{
    public static Command Create(TimeProvider time)
    {
        var policy = new Command("policy", "Check the data-sharing agreements, decide a sample event, print the record of processing.");
        policy.Subcommands.Add(Lint(time));
        policy.Subcommands.Add(Evaluate(time));
        policy.Subcommands.Add(Register(time));
        policy.Subcommands.Add(Schema());
        policy.Subcommands.Add(Approve(time));
        policy.Subcommands.Add(History(time));
        policy.Subcommands.Add(Hash());
        return policy;
    }

    static Option<string> AgreementsOption() => new("--agreements")
    {
        Description = "Folder of agreement files (default: Agreements:Directory from the gateway's configuration).",
        DefaultValueFactory = _ => GatewayConfiguration.Load()[$"{AgreementsOptions.Section}:Directory"] ?? new AgreementsOptions().Directory,
    };

    static Option<string> ControllersOption() => new("--controllers")
    {
        Description = "Folder of controller files (default: Controllers:Directory from the gateway's configuration).",
        DefaultValueFactory = _ => ControllersOptions.DirectoryIn(GatewayConfiguration.Load()),
    };

    static (GatewayPolicy Policy, IReadOnlyList<AgreementError> Errors) Load(ParseResult parse, Option<string> agreements, Option<string> controllers) =>
        GatewayPolicy.LoadAndLint(parse.GetValue(agreements)!, parse.GetValue(controllers)!, EventCatalogue.Default);

    static Command Lint(TimeProvider time)
    {
        var agreements = AgreementsOption();
        var controllers = ControllersOption();
        var on = new Option<DateOnly?>("--on") { Description = "The day to check review dates against, yyyy-MM-dd (default: today in Europe/Amsterdam)." };
        var command = new Command("lint", "Check every agreement and controller file, and that no agreement is past its review date; exit 0 when clean, 1 with errors (file:line: [rule] message).")
        {
            agreements, controllers, on,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var (loaded, found) = Load(parse, agreements, controllers);
            var notices = new List<AgreementError>();
            var errors = found.Concat(AgreementLinter.InForce(loaded.Agreements, parse.GetValue(on) ?? PolicyEngine.LegalDate(time.GetUtcNow()), notices)).ToList();
            foreach (var error in errors.Concat(notices))
            {
                output.WriteLine(error.ToString());
            }

            output.WriteLine($"{loaded.Agreements.Count} agreement(s) and {loaded.Controllers.All.Count} controller(s) checked, {errors.Count} error(s){(notices.Count > 0 ? $", {notices.Count} due for review soon" : "")}.");
            return errors.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    static readonly JsonSerializerOptions SchemaJson = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static Command Schema()
    {
        var agreement = new Option<string>("--agreement") { Description = "The agreement's id, or all.", DefaultValueFactory = _ => "all" };
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Write AGREEMENT.TYPE.schema.json files here instead of printing." };
        var agreements = AgreementsOption();
        var controllers = ControllersOption();
        var command = new Command("schema", "The JSON Schema of what a recipient receives under an agreement, per event type: only the fields it allows, every object closed.")
        {
            agreement, outDir, agreements, controllers,
        };
        command.SetAction(parse =>
        {
            var (loaded, errors) = Load(parse, agreements, controllers);
            if (errors.Count > 0)
            {
                parse.InvocationConfiguration.Error.WriteLine($"the agreements have {errors.Count} error(s); run policy lint");
                return ExitCodes.Failed;
            }

            var id = parse.GetValue(agreement)!;
            var chosen = loaded.Agreements.Where(a => id == "all" || a.Id == id).ToList();
            if (chosen.Count == 0)
            {
                parse.InvocationConfiguration.Error.WriteLine($"no agreement '{id}'; known: {string.Join(", ", loaded.Agreements.Select(a => a.Id).Order(StringComparer.Ordinal))}");
                return ExitCodes.Usage;
            }

            CliOptions.Emit(parse, parse.GetValue(outDir), chosen.SelectMany(a => a.EventTypes.Select(t =>
                (AgreementSchemas.FileName(a, t), AgreementSchemas.For(a, t).ToJsonString(SchemaJson) + "\n"))));
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command Approve(TimeProvider time)
    {
        var agreement = new Option<string>("--agreement") { Description = "The agreement's id.", Required = true };
        var hash = new Option<string>("--hash") { Description = "The hash of the exact text approved (sha256:...), as 'policy history' and the gateway's log name it.", Required = true };
        var command = new Command("approve", "Approve an agreement's exact text, by its hash: transfers held for it are released; recorded in the staff audit.")
        {
            agreement, hash,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, cancellationToken) =>
        {
            var settings = CliSettings.Load(parse.UnmatchedTokens);
            return settings.WithDatabaseAsync(parse, async (database, output) =>
            {
                var (id, text) = (parse.GetValue(agreement)!, parse.GetValue(hash)!);
                var versions = new Storage.AgreementVersions(database, time);
                var known = await versions.HistoryAsync(id, cancellationToken);
                if (!known.Any(v => v.Hash == text))
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync(known.Count == 0
                        ? $"No text of agreement '{id}' was ever loaded by a gateway on this database: nothing approved."
                        : $"Agreement '{id}' has no loaded text with hash {text}; its texts: {string.Join(", ", known.Select(v => $"v{v.Version} {v.Hash}"))}. Nothing approved.");
                    return ExitCodes.Failed;
                }

                await settings.AuditAsync(database, Ops.OpsAudit.Actions.AgreementApproved, id, text + "; on the command line", Ops.OpsScope.All, cancellationToken);
                var (_, already, released) = await versions.ApproveAsync(id, text, Ops.OpsAudit.CommandLineActor, cancellationToken);
                await output.WriteLineAsync(already
                    ? $"Agreement {id} {text} was approved already; {released} held transfer(s) released."
                    : $"Approved agreement {id} {text}; {released} held transfer(s) are due now (each gateway sees the approval within a scheduler round).");
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    /// <summary>
    /// The hash of each agreement file's text, computed here from the files alone (no gateway, no database): a DPO who
    /// reviewed a file checks that the hash they approve is the text they read, before <c>policy approve</c>.
    /// </summary>
    static Command Hash()
    {
        var agreements = AgreementsOption();
        var command = new Command("hash", "Print each agreement file's id, version and the hash of its text (sha256:...), the hash 'policy approve' takes; from the files alone.")
        {
            agreements,
        };
        command.SetAction(parse =>
        {
            var loaded = AgreementLoader.LoadDirectory(parse.GetValue(agreements)!);
            foreach (var error in loaded.Errors)
            {
                parse.InvocationConfiguration.Error.WriteLine(error.ToString());
            }

            foreach (var agreement in loaded.Agreements.OrderBy(a => a.Id, StringComparer.Ordinal))
            {
                parse.InvocationConfiguration.Output.WriteLine($"{agreement.Id}  v{agreement.Version}  {agreement.Hash}  {Path.GetFileName(agreement.SourceFile)}");
            }

            return loaded.Errors.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    static Command History(TimeProvider time)
    {
        var agreement = new Option<string>("--agreement") { Description = "The agreement's id.", Required = true };
        var on = new Option<DateTimeOffset?>("--on") { Description = "Also say which text was in force at this moment (ISO 8601)." };
        var command = new Command("history", "Every text of an agreement the gateways loaded: version, hash, first loaded, approved by and when; which was in force when.")
        {
            agreement, on,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, cancellationToken) => CliSettings.Load(parse.UnmatchedTokens).WithDatabaseAsync(parse, async (database, output) =>
        {
            var id = parse.GetValue(agreement)!;
            var versions = await new Storage.AgreementVersions(database, time).HistoryAsync(id, cancellationToken);
            var approved = versions.Where(v => v.ApprovedAt is not null).OrderBy(v => v.ApprovedAt).ToList();
            foreach (var v in versions)
            {
                // In force from its approval until the next text's approval: transfers go out only under approved texts.
                var next = approved.FirstOrDefault(a => a.ApprovedAt > v.ApprovedAt);
                var inForce = v.ApprovedAt is { } from ? $"in force {from:u} to {(next?.ApprovedAt is { } to ? to.ToString("u", CultureInfo.InvariantCulture) : "now")}" : "never approved: its transfers were held";
                await output.WriteLineAsync($"v{v.Version} {v.Hash}  first loaded {v.FirstLoadedAt:u}  {(v.ApprovedBy is null ? "not approved" : $"approved by {v.ApprovedBy} {v.ApprovedAt:u}")}  {inForce}");
            }

            if (parse.GetValue(on) is { } moment)
            {
                var then = approved.LastOrDefault(a => a.ApprovedAt <= moment);
                await output.WriteLineAsync(then is null ? $"At {moment:u} no text of {id} was approved: nothing went out under it." : $"At {moment:u} in force: v{then.Version} {then.Hash}.");
            }

            await output.WriteLineAsync($"{versions.Count} text(s) of {id}, {approved.Count} approved.");
            return versions.Count == 0 ? ExitCodes.Failed : ExitCodes.Ok;
        }));
        return command;
    }

    static Command Evaluate(TimeProvider time)
    {
        var type = CliOptions.EventType(allowAll: false);
        var eventFile = new Option<FileInfo>("--event") { Description = "The event as JSON.", Required = true };
        var at = new Option<string?>("--at") { Description = "The moment to decide for, ISO 8601 (default: now)." };
        var subjectState = new Option<FileInfo>("--subject-state") { Description = "Consents, objections and erasures of subjects, as JSON." };
        var controller = new Option<string?>("--controller") { Description = "The controller it is sent as (default: the one whose identifiers include the event's source.institutionId)." };
        var agreements = AgreementsOption();
        var controllers = ControllersOption();
        eventFile.AcceptExistingOnly();
        subjectState.AcceptExistingOnly();
        at.Validators.Add(r =>
        {
            if (r.Tokens is [{ Value: var text }] && !TryParseMoment(text, out _))
            {
                r.AddError($"--at needs an ISO 8601 moment such as 2026-11-20T12:00:00Z, not '{text}'");
            }
        });

        var command = new Command("evaluate", "Decide, per agreement that routes it, whether an event may be transferred and what would be sent; prints JSON. The event id stands as the nil UUID: each recipient gets its own reference in its place.")
        {
            type, eventFile, at, subjectState, controller, agreements, controllers,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var (loaded, errors) = Load(parse, agreements, controllers);
            if (errors.Count > 0)
            {
                error.WriteLine($"The agreements or controllers have {errors.Count} error(s); run 'policy lint'. First: {errors[0]}");
                return ExitCodes.Failed;
            }

            var file = parse.GetValue(eventFile)!;
            var eventType = parse.GetValue(type)!;
            // As the live intake does: the same parse and validation, then the raw event goes to the engine, whose
            // projection admits only what the contract declares. An event the intake would quarantine is refused here.
            var validator = new EventValidator(time);
            var document = validator.Parse(File.ReadAllBytes(file.FullName), out var malformed);
            var violations = document is null ? [malformed!] : validator.Validate(eventType, document.RootElement);
            if (document is null || violations.Count > 0)
            {
                document?.Dispose();
                // The rule and path, never the content: the file holds personal data.
                error.WriteLine($"{file.FullName} is not a valid {eventType} ({violations[0]}); 'events validate' lists every reason.");
                return ExitCodes.Failed;
            }

            using (document)
            {
                IReadOnlyDictionary<string, SubjectState> states = new Dictionary<string, SubjectState>();
                if (parse.GetValue(subjectState) is { } stateFile)
                {
                    try
                    {
                        states = SubjectStateFile.Load(stateFile.FullName);
                    }
                    catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
                    {
                        error.WriteLine($"{stateFile.FullName}: {(ex is JsonException ? "not valid JSON" : ex.Message)}");
                        return ExitCodes.Failed;
                    }
                }

                var moment = parse.GetValue(at) is { } text && TryParseMoment(text, out var parsed) ? parsed : time.GetUtcNow();
                var body = document.RootElement;
                // As if published by the controller's own broker user: the one named, or the one the event names.
                var sender = parse.GetValue(controller) is { } id ? loaded.Controllers.ById(id) : loaded.Controllers.ByInstitution(EventFacts.InstitutionOf(body));
                if (sender is null || !sender.Identifies(EventFacts.InstitutionOf(body)))
                {
                    error.WriteLine(parse.GetValue(controller) is { } named && loaded.Controllers.ById(named) is null
                        ? $"no controller '{named}'; known: {string.Join(", ", loaded.Controllers.All.Select(c => c.Id))}"
                        : "the event's source.institutionId is not an identifier of that controller (or of any): the intake would quarantine it as sender-not-authenticated");
                    return ExitCodes.Failed;
                }

                // Without the gateway's key there is no recipient's reference to show: its place in a payload holds the nil UUID.
                var decisions = new PolicyEngine(loaded.Agreements).Evaluate(EventFacts.Of(eventType, body, sender), body, SubjectStateFile.For(states, body), moment, static _ => Guid.Empty);
                output.Write(EvaluationJson.Write(eventType, body, moment, decisions));
                output.WriteLine();
                return ExitCodes.Ok;
            }
        });
        return command;
    }

    static Command Register(TimeProvider time)
    {
        var format = new Option<string>("--format") { Description = "md or json.", DefaultValueFactory = _ => "md" };
        format.AcceptOnlyFromAmong("md", "json");
        var agreements = AgreementsOption();
        var controllers = ControllersOption();
        var controller = new Option<string?>("--controller") { Description = "The controller whose record it is (art. 30(1)); without it, every agreement (the platform's overview)." };
        var command = new Command("register", "Print the GDPR art. 30 record of processing generated from the agreements (and the controller registry).") { format, controller, agreements, controllers };
        command.SetAction(parse =>
        {
            var (loaded, errors) = Load(parse, agreements, controllers);
            if (errors.Count > 0)
            {
                parse.InvocationConfiguration.Error.WriteLine($"The agreements or controllers have {errors.Count} error(s); run 'policy lint'. First: {errors[0]}");
                return ExitCodes.Failed;
            }

            Controller? of = null;
            if (parse.GetValue(controller) is { } id && (of = loaded.Controllers.ById(id)) is null)
            {
                parse.InvocationConfiguration.Error.WriteLine($"no controller '{id}'; known: {string.Join(", ", loaded.Controllers.All.Select(c => c.Id))}");
                return ExitCodes.Failed;
            }

            var entries = ProcessingRegister.Build(loaded.Agreements, EventCatalogue.Default, of);
            var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
            parse.InvocationConfiguration.Output.Write(parse.GetValue(format) == "json"
                ? ProcessingRegister.ToJson(entries, today, of) + Environment.NewLine
                : ProcessingRegister.ToMarkdown(entries, today, of));
            return ExitCodes.Ok;
        });
        return command;
    }

    static bool TryParseMoment(string text, out DateTimeOffset moment) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out moment);
}
