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

        var command = new Command("evaluate", "Decide, per agreement that routes it, whether an event may be transferred and what would be sent; prints JSON.")
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

                var decisions = new PolicyEngine(loaded.Agreements).Evaluate(EventFacts.Of(eventType, body, sender), body, SubjectStateFile.For(states, body), moment);
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
