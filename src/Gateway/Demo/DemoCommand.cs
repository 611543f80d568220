using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using IntegrationGateway.Gateway.Cli;
using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Subjects;
using IntegrationGateway.Gateway.Ops;
using IntegrationGateway.Gateway.Policy;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Demo;

/// <summary>
/// <c>demo</c>: runs the gateway, publishes sample events over RabbitMQ as a school system would, waits until
/// each is settled, and prints what was delivered and blocked per recipient, cross-checked against what the
/// agency simulator recorded. The services and the simulator are started by <c>deploy/local/demo.sh</c>.
/// </summary>
internal static partial class DemoCommand
{
    public static Command Create()
    {
        var count = new Option<int>("--count") { Description = "Sample events to publish.", DefaultValueFactory = _ => 45 };
        var types = new Option<string>("--types")
        {
            Description = $"Event types to publish, comma-separated and taken in turn, or 'all' ({string.Join(", ", SampleEventGenerator.EventTypes)}).",
            // Every type: the demo's three controllers (a Dutch school, a Flemish adult-education centre, an integration agency) each publish.
            DefaultValueFactory = _ => "all",
        };
        types.Validators.Add(r =>
        {
            if (r.Tokens is [{ Value: var text }] && ParseTypes(text).FirstOrDefault(t => !SampleEventGenerator.EventTypes.Contains(t)) is { } unknown)
            {
                r.AddError($"--types: '{unknown}' is not an event type; known: {string.Join(", ", SampleEventGenerator.EventTypes)}, or all");
            }
        });
        var seed = new Option<int?>("--seed") { Description = "Seed of the sample events (default: random, printed)." };
        var exitAfterSummary = new Option<bool>("--exit-after-summary") { Description = "Stop after printing the summary instead of running until Ctrl-C." };
        var simulator = new Option<string>("--simulator") { Description = "Base URL of the agency simulator, to read what it recorded.", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        simulator.Validators.Add(r =>
        {
            if (r.Tokens is [{ Value: var text }] && !Uri.TryCreate(text, UriKind.Absolute, out _))
            {
                r.AddError($"--simulator needs an absolute URL such as http://127.0.0.1:5080, not '{text}'");
            }
        });
        var verbose = new Option<bool>("--verbose") { Description = "Log every transfer decision, as the service does, instead of only warnings." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for every event to be settled.", DefaultValueFactory = _ => 120 };
        var running = new Option<bool>("--running-gateways")
        {
            Description = "Publish and summarise only: gateways already running on this broker and database (deploy/compose, Kubernetes) settle the events, and what they did is read from the database they share.",
        };
        var command = new Command("demo", "Publish sample events through the real broker and print a delivery summary.")
        {
            count, types, seed, exitAfterSummary, simulator, timeout, verbose, running,
        };
        count.MustBeBetween(1, 100_000);
        command.TreatUnmatchedTokensAsErrors = false; // host settings such as --urls pass through
        command.SetAction(async (parse, _) =>
        {
            if (GatewayConfiguration.SyntheticDataRefusal("demo", GatewayConfiguration.EnvironmentName(GatewayConfiguration.Load([.. parse.UnmatchedTokens]))) is { } refusal)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync(refusal);
                return ExitCodes.Failed;
            }

            return await RunAsync(
            parse.GetValue(count),
            ParseTypes(parse.GetValue(types)!),
            parse.GetValue(seed) ?? Random.Shared.Next(),
            parse.GetValue(exitAfterSummary),
            new Uri(parse.GetValue(simulator)!),
            TimeSpan.FromSeconds(parse.GetValue(timeout)),
            parse.GetValue(verbose),
            parse.GetValue(running),
            [.. parse.UnmatchedTokens]);
        });
        return command;
    }

    /// <summary>The password of the demo's own ops user, made for each run and printed when the demo keeps running.</summary>
    static readonly string DemoPassword = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));

    /// <summary>The demo user's second factor, this run only: the app requires one.</summary>
    static readonly string DemoTotpSecret = SecondFactor.Enrol("demo").Secret;

    static IReadOnlyList<string> ParseTypes(string text) =>
        text.Trim() == "all" ? SampleEventGenerator.EventTypes : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    static async Task<int> RunAsync(int count, IReadOnlyList<string> types, int seed, bool exitAfterSummary, Uri simulator, TimeSpan timeout, bool verbose, bool runningGateways, string[] hostArgs)
    {
        await using var app = GatewayApp.Build(hostArgs, builder =>
        {
            // In the demo every agency is the simulator.
            builder.Configuration.AddInMemoryCollection(GatewayApp.Recipients(builder.Configuration).ToDictionary(
                r => $"Recipients:{r}:BaseUrl", r => (string?)new Uri(simulator, $"recipients/{r.ToLowerInvariant()}").ToString()));
            if (!builder.Configuration.GetSection("Ops:Users").GetChildren().Any())
            {
                // No ops users configured: one admin for this run, so the ops app can be looked at.
                builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["Ops:Users:demo:PasswordHash"] = OpsAccess.HashPassword(DemoPassword),
                    ["Ops:Users:demo:TotpSecret"] = DemoTotpSecret,
                    ["Ops:Users:demo:Roles:0"] = OpsRoles.Admin,
                    ["Ops:Users:demo:Roles:1"] = OpsRoles.Dpo,
                    ["Ops:Users:demo:Controllers:0"] = OpsScope.Platform, // the demo's user is the platform's: it sees every controller
                });
            }

            if (!verbose)
            {
                // The summary is the demo's output; per-transfer lines would bury it.
                builder.Logging.AddFilter("IntegrationGateway", LogLevel.Warning);
            }
        });
        // Gateways elsewhere settle the events: this process only publishes and reads, and stops on Ctrl-C itself.
        using var interrupted = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            interrupted.Cancel();
        };
        if (runningGateways)
        {
            Console.CancelKeyPress += onCancel;
        }
        else
        {
            await app.StartGatewayAsync();
        }

        var stopping = runningGateways ? interrupted.Token : app.Lifetime.ApplicationStopping;
        await using var elsewhere = runningGateways ? new RunningGateways(app.Services.GetRequiredService<Npgsql.NpgsqlDataSource>(), app.Services.GetRequiredService<IOptions<RabbitMqOptions>>().Value, app.Services.GetRequiredService<IOptions<IntakeOptions>>().Value) : null;
        var counters = app.Services.GetRequiredService<TransferCounters>();
        var before = counters.Snapshot();
        var time = app.Services.GetRequiredService<TimeProvider>();
        long quarantinedAtStart = 0;
        if (elsewhere is not null)
        {
            // The quarantine's depth before this run, so that only its own messages count: asked until the broker answers.
            var asked = time.GetTimestamp();
            long? depth;
            while ((depth = await elsewhere.QuarantinedAsync(stopping)) is null)
            {
                if (time.GetElapsedTime(asked) > timeout)
                {
                    Console.Error.WriteLine($"RabbitMQ did not answer within {timeout.TotalSeconds:0} s.");
                    return ExitCodes.Failed;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), time, stopping);
            }

            quarantinedAtStart = depth.Value;
        }
        var generator = new SampleEventGenerator(seed, time);
        var events = Enumerable.Range(0, count).Select(i => generator.Next(types[i % types.Count])).ToList();
        // Its own events: whatever else the queue holds (published while no gateway ran) is settled too, and not waited for.
        var ours = events.Select(EventIdOf).ToHashSet();
        var settledOurs = new System.Collections.Concurrent.ConcurrentDictionary<Guid, bool>();
        counters.EventSettled += id =>
        {
            if (ours.Contains(id))
            {
                settledOurs.TryAdd(id, true);
            }
        };
        // As the controllers' own systems that are not .NET would: raw JSON on the intake exchange, confirmed,
        // mandatory, each controller as its own broker user (the intake checks user_id against the event's sender).
        await using var publisher = new ControllerPublishers(
            app.Services.GetRequiredService<IOptions<RabbitMqOptions>>().Value, app.Services.GetRequiredService<IOptions<IntakeOptions>>().Value,
            app.Services.GetRequiredService<ControllerRegistry>(), ControllerPublishers.PasswordsIn(app.Configuration));
        // Half the Dutch pupils' parents consent to school photos first. The seed school is not party to the photographer's
        // agreement (seed 003 rules out commercial third parties), so these show that a consent does not make it one: controller-not-party.
        var consents = events.OfType<Contracts.StudentEnrolled>().Where(e => e.Jurisdiction == "NL").Where((_, i) => i % 2 == 0)
            .Select(e => (object)((Contracts.ConsentChanged)generator.Next(nameof(Contracts.ConsentChanged)) with
            {
                Subject = e.Subject, Source = e.Source, Jurisdiction = e.Jurisdiction, OccurredAt = e.OccurredAt.AddDays(-1),
                Consent = new Contracts.ConsentChange { Purpose = "school-photos", Status = "given", ChangedOn = DateOnly.FromDateTime(e.OccurredAt.UtcDateTime.AddDays(-1)), GivenBy = "guardian" },
            }))
            .ToList();
        var intake = app.Services.GetRequiredService<IntakeCounters>();
        try
        {
            var acceptedBefore = intake.Accepted;
            foreach (var e in consents)
            {
                await PublishAsync(publisher, e, stopping);
            }

            // The consents are stored before the enrolments they concern arrive (by whichever gateway took them).
            var consentIds = consents.Select(EventIdOf).ToArray();
            var consentsPublished = time.GetTimestamp();
            while ((elsewhere is null ? intake.Accepted - acceptedBefore : await elsewhere.SettledAsync(consentIds, stopping)) < consents.Count && !stopping.IsCancellationRequested)
            {
                if (time.GetElapsedTime(consentsPublished) > timeout)
                {
                    // No gateway took them (none consuming?): the summary below says what was and was not settled.
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(50), time, CancellationToken.None);
            }

            // Every third event as a careless export sends it: members its contract does not declare, at every depth,
            // holding the person's identifier and name. None may reach a recipient (the simulator checks every leaf).
            for (var i = 0; i < events.Count; i++)
            {
                if (i % 3 == 2)
                {
                    var e = events[i];
                    await publisher.PublishAsync(e.GetType().Name, System.Text.Encoding.UTF8.GetBytes(SampleEventGenerator.AsSloppyExport(e).ToJsonString()), EventIdOf(e), InstitutionOf(e), stopping);
                }
                else
                {
                    await PublishAsync(publisher, events[i], stopping);
                }
            }
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Stopped while publishing.");
            if (!runningGateways)
            {
                await app.StopAsync();
            }

            return ExitCodes.Failed;
        }

        // Consents and objections only change a subject's state: no transfer to wait for. Rectifications and erasures
        // are settled like events (their notices go to whoever had the data).
        var held = events.Count(e => !EventKinds.Of(e.GetType().Name).Transfers());
        var toSettle = count - held;
        Console.WriteLine($"Published {consents.Count} consents, then {count} events ({string.Join(", ", types)}; seed {seed}; {count / 3} of them with members their contract does not declare); waiting for the gateway to settle them...");
        var started = time.GetTimestamp();
        var quarantinedBefore = intake.Quarantined;
        long quarantinedElsewhere = 0;
        long Quarantined() => elsewhere is null ? intake.Quarantined - quarantinedBefore : quarantinedElsewhere;
        // Elsewhere, settled is counted in the intake's memory, which marks consents and objections too: only the events
        // that transfer are waited for, as the counters here count them.
        var ourIds = events.Where(e => EventKinds.Of(e.GetType().Name).Transfers()).Select(EventIdOf).ToArray();
        long settledElsewhere = 0;
        long Settled() => elsewhere is null ? settledOurs.Count : settledElsewhere;
        while (Settled() + Quarantined() < toSettle && time.GetElapsedTime(started) < timeout && !stopping.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), time, CancellationToken.None);
            if (elsewhere is not null)
            {
                settledElsewhere = await elsewhere.SettledAsync(ourIds, CancellationToken.None);
                quarantinedElsewhere = await elsewhere.QuarantinedAsync(CancellationToken.None) is { } now ? now - quarantinedAtStart : quarantinedElsewhere;
            }
        }

        var settled = elsewhere is null ? counters.Snapshot().Since(before) : await elsewhere.OutcomesAsync(ourIds, CancellationToken.None);
        SimulatorView recorded;
        try
        {
            recorded = await ReadSimulatorAsync(simulator, [.. events.Select(EventIdOf)], app.Services.GetRequiredService<PolicyEngine>().Agreements, app.Services.GetRequiredService<Ledger.LedgerKeys>());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine($"Could not read what the simulator at {simulator} recorded: {ex.Message}");
            recorded = new(new Dictionary<string, long>(), new Dictionary<string, long>(), new Dictionary<string, long>(), new Dictionary<string, long>(), 0, 0, 0);
        }

        var byController = await DemoSummary.PerControllerAsync(app.Services.GetRequiredService<Npgsql.NpgsqlDataSource>(), [.. ours], CancellationToken.None);
        Console.WriteLine();
        Console.WriteLine(DemoSummary.Render(count, held, Quarantined(), settled, recorded));
        Console.WriteLine();
        Console.WriteLine(DemoSummary.RenderPerController(publisher.Published, byController, app.Services.GetRequiredService<ControllerRegistry>()));
        var delivered = settled.Transfers.Where(kv => kv.Key.Outcome == TransferOutcome.Delivered).Sum(kv => kv.Value);
        // Nothing parked or failed either: with the simulator answering, every allowed transfer is delivered at once.
        var undelivered = settled.Transfers.Where(kv => kv.Key.Outcome is TransferOutcome.Parked or TransferOutcome.Failed).Sum(kv => kv.Value);
        var ok = Settled() >= toSettle && Quarantined() == 0 && delivered > 0 && undelivered == 0 && recorded.Recorded.Values.Sum() == delivered
                 && recorded.OutsideAllowList.Values.Sum() == 0 && recorded.OffSchema.Values.Sum() == 0 && recorded.InvalidSignatures.Values.Sum() == 0
                 && recorded.CarryingEventId == 0 && recorded.SharedReferences == 0 && recorded.DuplicateEffects == 0;

        if (runningGateways)
        {
            Console.CancelKeyPress -= onCancel;
            return ok ? ExitCodes.Ok : ExitCodes.Failed;
        }

        if (exitAfterSummary || stopping.IsCancellationRequested)
        {
            await app.StopAsync();
            return ok ? ExitCodes.Ok : ExitCodes.Failed;
        }

        Console.WriteLine();
        Console.WriteLine($"Gateway running. Ops app: {string.Join(", ", app.Urls.Select(u => u.TrimEnd('/') + "/ops"))}  Health: /health/ready  (Ctrl-C to stop)");
        if (app.Configuration["Ops:Users:demo:PasswordHash"] is not null)
        {
            Console.WriteLine($"Sign in as 'demo' (admin and dpo, this run only) with the password {DemoPassword}");
            Console.WriteLine($"  and the code of the TOTP secret {DemoTotpSecret} (add it to an authenticator app, or: oathtool --totp -b {DemoTotpSecret})");
        }
        await app.WaitForShutdownAsync();
        return ok ? ExitCodes.Ok : ExitCodes.Failed;
    }

    static Task PublishAsync(ControllerPublishers publisher, object e, CancellationToken cancellationToken) =>
        publisher.PublishAsync(e.GetType().Name, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(e, e.GetType(), EventJsonContext.Default), EventIdOf(e), InstitutionOf(e), cancellationToken);

    static string InstitutionOf(object e) => ((Contracts.EventSource)e.GetType().GetProperty("Source")!.GetValue(e)!).InstitutionId;

    static Guid EventIdOf(object e) => (Guid)e.GetType().GetProperty("EventId")!.GetValue(e)!;

    /// <summary>
    /// What the simulator says of this run's events, per recipient: receipts (each passed its signature check),
    /// receipts with a field outside the agreement's allow-list, receipts that do not match their agreement's
    /// <c>policy schema</c>, and requests it refused for a bad signature. This run's receipts are found by the reference
    /// each recipient got for each event (<see cref="Ledger.LedgerKeys.TransferReference"/>); any receipt that carries an
    /// event's own id, in its key or its body, is counted, as is a reference two recipients share.
    /// </summary>
    static async Task<SimulatorView> ReadSimulatorAsync(Uri simulator, IReadOnlyList<Guid> eventIds, IReadOnlyList<Agreement> agreements, Ledger.LedgerKeys keys)
    {
        using var http = new HttpClient { BaseAddress = simulator, Timeout = TimeSpan.FromSeconds(10) };
        var all = await http.GetFromJsonAsync<List<SimulatorReceipt>>("records") ?? [];
        var ours = eventIds.SelectMany(e => agreements.Select(a => a.Recipient).Distinct().Select(r => (r, keys.TransferReference(e, r).ToString("D")))).ToHashSet();
        var receipts = all.Where(r => ours.Contains((r.Recipient, r.IdempotencyKey.Split(':')[0]))).ToList();
        // Every UUID in a receipt's key and body, against this run's event ids: linear in what the simulator holds.
        var ids = eventIds.ToHashSet();
        var carrying = all.Count(r => Uuids().Matches(r.IdempotencyKey + " " + r.Body?.GetRawText()).Any(m => Guid.TryParse(m.ValueSpan, out var id) && ids.Contains(id)));
        // Over every receipt, not only those found by their own recipient's reference: one sent on to another recipient too is found.
        var shared = all.GroupBy(r => r.IdempotencyKey.Split(':')[0], StringComparer.Ordinal).Count(g => g.Select(r => r.Recipient).Distinct().Count() > 1);
        var summary = await http.GetFromJsonAsync<List<SimulatorSummary>>("records/summary") ?? [];
        var offSchema = receipts.Where(r => OffSchema(r, agreements)).ToList();
        return new(
            receipts.GroupBy(r => r.Recipient, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal),
            receipts.Where(r => r.FieldsOutsideAllowList.Count > 0).GroupBy(r => r.Recipient, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal),
            offSchema.GroupBy(r => r.Recipient, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal),
            summary.ToDictionary(s => s.Recipient, s => (long)s.InvalidSignatures, StringComparer.Ordinal),
            carrying,
            shared,
            summary.Sum(s => (long)s.DuplicateEffects));
    }

    static readonly Dictionary<(string Agreement, string EventType), Func<JsonElement, IReadOnlyList<string>>> Validators = [];

    [System.Text.RegularExpressions.GeneratedRegex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")]
    private static partial System.Text.RegularExpressions.Regex Uuids();

    /// <summary>
    /// Whether a receipt's body (as the simulator decoded it, JSON, CSV or XML alike) fails the schema of what its
    /// agreement sends (<see cref="AgreementSchemas"/>). Only the places in the record are printed, never a value.
    /// </summary>
    static bool OffSchema(SimulatorReceipt receipt, IReadOnlyList<Agreement> agreements)
    {
        var id = receipt.Body is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty("agreement", out var a) ? a.GetString() : null;
        var type = receipt.Body is { ValueKind: JsonValueKind.Object } b && b.TryGetProperty("eventType", out var t) ? t.GetString() : null;
        if (type is not null && EventKinds.Of(type).IsNotice() && agreements.Any(x => x.Id == id && x.Recipient == receipt.Recipient))
        {
            // A notice (art. 19: a rectification or erasure, to a recipient that had the data) goes under the agreement the
            // data went under, not as one of its event types, so that agreement's schema does not describe it; the
            // simulator's leaf check (fields outside the allow-list) still covers it.
            return false;
        }

        if (agreements.FirstOrDefault(x => x.Id == id && x.Recipient == receipt.Recipient) is not { } agreement || type is null || !agreement.EventTypes.Contains(type))
        {
            Console.Error.WriteLine($"  {receipt.Recipient}: a receipt names no agreement and event type of its own ({id ?? "none"}, {type ?? "none"})");
            return true;
        }

        if (!Validators.TryGetValue((agreement.Id, type), out var validate))
        {
            Validators[(agreement.Id, type)] = validate = AgreementSchemas.Validator(agreement, type);
        }

        var problems = validate(receipt.Body!.Value);
        foreach (var problem in problems.Take(3))
        {
            Console.Error.WriteLine($"  {receipt.Recipient} ({agreement.Id}, {type}): off its policy schema at {problem}");
        }

        return problems.Count > 0;
    }

    sealed record SimulatorReceipt(string Recipient, string IdempotencyKey, IReadOnlyList<string> FieldsOutsideAllowList, JsonElement? Body);

    sealed record SimulatorSummary(string Recipient, int InvalidSignatures, int DuplicateEffects);

}

/// <summary>The simulator's account of a demo run, per recipient.</summary>
/// <param name="Recorded">Receipts of this run's events, per recipient.</param>
/// <param name="OutsideAllowList">Of those, receipts with a field outside the agreement's allow-list.</param>
/// <param name="OffSchema">Of those, receipts that fail their agreement's <c>policy schema</c>.</param>
/// <param name="InvalidSignatures">Requests the simulator refused for a bad signature.</param>
/// <param name="CarryingEventId">Receipts with an event's own id in their key or body (none should: each recipient gets its own reference).</param>
/// <param name="SharedReferences">References that more than one recipient received (none should).</param>
/// <param name="DuplicateEffects">Records that carried a transfer the recipient had already recorded under another key (none should: exactly once in effect).</param>
internal sealed record SimulatorView(
    IReadOnlyDictionary<string, long> Recorded, IReadOnlyDictionary<string, long> OutsideAllowList, IReadOnlyDictionary<string, long> OffSchema, IReadOnlyDictionary<string, long> InvalidSignatures,
    long CarryingEventId, long SharedReferences, long DuplicateEffects);
