using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;
using Microsoft.Extensions.Configuration;
using Npgsql;
using RabbitMQ.Client;

namespace IntegrationGateway.Load;

/// <summary>One workload the gateway drains: a name, the event types it publishes (taken in turn), and how each sample is shaped.</summary>
internal sealed record Workload(string Name, IReadOnlyList<string> EventTypes, Func<object, object>? Shape = null)
{
    public static readonly Workload TwoRoutes = new("AbsenceReported, 2 routes", [nameof(Contracts.AbsenceReported)]);

    // An adult participant's attendance goes to the Department alone (the CLB's agreement is for minors).
    public static readonly Workload OneRoute = new("AttendanceRegistered, 1 route", [nameof(Contracts.AttendanceRegistered)],
        e => (Contracts.AttendanceRegistered)e is var a ? a with { Subject = a.Subject with { BirthDate = DateOnly.FromDateTime(a.OccurredAt.UtcDateTime).AddYears(-30) } } : e);

    public static readonly Workload EveryType = new("every event type", SampleEventGenerator.EventTypes);

    /// <summary>What a run drains, in this order; the report compares these by name.</summary>
    public static readonly Workload[] All = [TwoRoutes, OneRoute, EveryType];
}

/// <summary>
/// The gateway under load, as an operator runs it: its own process (or R of them) from the Release build, against the
/// local broker and database (the harness's own virtual host and database, emptied first) and the agency simulator
/// as every recipient (its own process: it verifies every signature and records every receipt). The intake queue is
/// filled before the gateway starts (warm-up, then each workload in turn), so the gateway drains a backlog at full
/// speed; then a paced phase at half the rate it reached. Each event's settle moment is the gateway's own record
/// (<c>intake_event.settled_at</c>, written once its decisions and outcomes are committed).
/// </summary>
internal sealed class GatewayRun(LoadOptions options, CpuSampler sampler, TimeProvider time)
{
    static readonly ControllerRegistry Controllers = new(ControllerLoader.LoadDirectory(LoadSettings.Env("Controllers__Directory")).Controllers);

    public async Task<IReadOnlyList<Row>> RunAsync(int run, int replicas, IReadOnlyList<Workload> workloads, int perWorkload, bool paced)
    {
        var label = replicas == 1 ? "gateway" : $"gateway ×{replicas}";
        var broker = LoadSettings.Broker();
        var intake = new IntakeOptions();
        await ResetAsync(broker, intake);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{LoadSettings.SimulatorPort}/") };
        using var simulator = await StartSimulatorAsync(http, run);
        var simulatorPid = simulator.Id;
        _simulator = $"simulator-{run}-{replicas}";
        sampler.Watch(_simulator, () => ProcessCpu.Seconds(simulatorPid));

        var controllers = Controllers;
        var publishers = new Dictionary<string, BulkPublisher>(StringComparer.Ordinal);
        var generator = new SampleEventGenerator(Random.Shared.Next(), time);
        var published = new Dictionary<Guid, DateTimeOffset>();
        var phases = new List<(string Name, List<Guid> Ids)>();
        try
        {
            var warm = new Workload("warm-up", [nameof(Contracts.AbsenceReported)]);
            foreach (var (workload, count) in workloads.Select(w => (w, perWorkload)).Prepend((warm, options.Warmup)))
            {
                var messages = await MessagesAsync(workload, count, generator, controllers, publishers, broker, intake);
                phases.Add((workload.Name, [.. messages.Select(m => m.Message.Id)]));
                Progress.Line($"{label}: filling the intake with {count:N0} events ({workload.Name})");
                await BulkPublisher.PublishAsync(messages, time, (id, at) => published[id] = at);
            }

            var gateways = new List<Process>();
            try
            {
                for (var i = 0; i < replicas; i++)
                {
                    gateways.Add(StartGateway(run, i));
                }

                for (var i = 0; i < gateways.Count; i++)
                {
                    var pid = gateways[i].Id;
                    sampler.Watch($"gateway-{run}-{replicas}-{i}", () => ProcessCpu.Seconds(pid));
                }

                var total = phases.Sum(p => p.Ids.Count);
                string ledgerLock;
                await using (var lockData = NpgsqlDataSource.Create(LoadSettings.Database()))
                {
                    await using var locks = LedgerLockSampler.Start(lockData);
                    await WaitSettledAsync(label, broker, intake, total, gateways);
                    ledgerLock = await locks.StopAsync();
                }

                Progress.Line($"{label}: ledger chain lock while draining: {ledgerLock}");
                var settled = await SettledAsync();
                var rows = Rows(run, label, phases, settled, published, gateways.Count).Select(r => r with { LedgerLock = ledgerLock }).ToList();
                if (paced && rows.FirstOrDefault() is { } first)
                {
                    var rate = first.MessagesPerSecond / 2;
                    var messages = await MessagesAsync(workloads[0], options.PacedEvents, generator, controllers, publishers, broker, intake);
                    Progress.Line($"{label}: {options.PacedEvents:N0} more {workloads[0].Name} events at half the rate it reached ({rate:N0}/s)");
                    await BulkPublisher.PublishAsync(messages, time, (id, at) => published[id] = at, i => TimeSpan.FromSeconds(i / rate));
                    await WaitSettledAsync(label, broker, intake, total + messages.Count, gateways);
                    settled = await SettledAsync();
                    var latencies = messages.Select(m => settled.TryGetValue(m.Message.Id, out var at) ? BulkPublisher.UnixMicroseconds(at) - BulkPublisher.UnixMicroseconds(published[m.Message.Id]) : long.MaxValue).Order().ToArray();
                    rows[0] = rows[0] with { Paced = Latency.FromMicroseconds(latencies), PacedRate = rate };
                }

                var peak = gateways.Max(g => ProcessCpu.PeakRssMiB(g.Id) ?? 0);
                var accounting = await AccountAsync(http, [.. published.Keys]);
                return [.. rows.Select(r => r with { PeakRssMiB = peak, Accounting = accounting.Text, Accounted = accounting.Ok })];
            }
            finally
            {
                await Task.WhenAll(gateways.Select(g => LoadSettings.StopAsync(g, TimeSpan.FromSeconds(30))));
                foreach (var gateway in gateways)
                {
                    gateway.Dispose();
                }
            }
        }
        finally
        {
            foreach (var publisher in publishers.Values)
            {
                await publisher.DisposeAsync();
            }

            await LoadSettings.StopAsync(simulator, TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>
    /// A row per workload. Its window runs between order statistics of all settle moments: from the moment as many events
    /// as the phases before it had settled, to the moment as many as those and its own had, so a straggler of one phase
    /// does not stretch the next.
    /// </summary>
    IEnumerable<Row> Rows(int run, string label, List<(string Name, List<Guid> Ids)> phases, Dictionary<Guid, DateTimeOffset> settled, Dictionary<Guid, DateTimeOffset> published, int replicas)
    {
        // An event never settled (quarantined) has no moment: left out here, and the accounting says NO.
        var moments = phases.SelectMany(p => p.Ids).Where(settled.ContainsKey).Select(id => settled[id]).Order().ToArray();
        var first = moments[0];
        var before = phases[0].Ids.Count;
        foreach (var (name, ids) in phases.Skip(1))
        {
            var from = moments[Math.Min(before, moments.Length) - 1];
            var to = moments[Math.Min(before + ids.Count, moments.Length) - 1];
            before += ids.Count;
            double PerMessage(string process) => (sampler.Between(process, from, to) ?? double.NaN) * 1e6 / ids.Count;
            var latencies = ids.Where(settled.ContainsKey).Select(id => BulkPublisher.UnixMicroseconds(settled[id]) - BulkPublisher.UnixMicroseconds(published[id] > first ? published[id] : first)).Order().ToArray();
            yield return new Row
            {
                Run = run,
                Consumer = label,
                Workload = name,
                Messages = ids.Count,
                Transfers = Transfers(name, ids),
                Seconds = (to - from).TotalSeconds,
                CpuMicrosPerMessage = new()
                {
                    ["consumer"] = Enumerable.Range(0, replicas).Sum(i => PerMessage($"gateway-{run}-{replicas}-{i}")),
                    ["simulator"] = PerMessage(_simulator!),
                    ["rabbitmq"] = PerMessage("rabbitmq"),
                    ["postgres"] = PerMessage("postgres"),
                },
                PeakRssMiB = 0,
                BusyShare = sampler.Share("machine", from, to),
                StealShare = sampler.Share("steal", from, to),
                Drain = Latency.FromMicroseconds(latencies),
            };
        }
    }

    readonly Dictionary<Guid, int> _transfers = [];
    string? _simulator;

    int Transfers(string name, List<Guid> ids) => ids.Sum(id => _transfers.GetValueOrDefault(id));

    async Task<List<(BulkPublisher Publisher, LoadMessage Message)>> MessagesAsync(
        Workload workload, int count, SampleEventGenerator generator, ControllerRegistry controllers, Dictionary<string, BulkPublisher> publishers, RabbitMqOptions broker, IntakeOptions intake)
    {
        var passwords = ControllerPublishers.PasswordsIn(LoadSettings.Env("Publishers__SecretsDirectory"));
        var messages = new List<(BulkPublisher, LoadMessage)>(count);
        for (var i = 0; i < count; i++)
        {
            var type = workload.EventTypes[i % workload.EventTypes.Count];
            var e = generator.Next(type);
            e = workload.Shape?.Invoke(e) ?? e;
            var json = JsonSerializer.SerializeToUtf8Bytes(e, e.GetType(), EventJsonContext.Default);
            using var document = JsonDocument.Parse(json);
            var id = document.RootElement.GetProperty("eventId").GetGuid();
            var institution = document.RootElement.GetProperty("source").GetProperty("institutionId").GetString()!;
            var user = controllers.ByInstitution(institution)?.BrokerUsers[0] ?? throw new InvalidOperationException($"no controller publishes for the institution of a sample {type}");
            if (!publishers.TryGetValue(user, out var publisher))
            {
                publishers[user] = publisher = await BulkPublisher.ConnectAsync(broker.As(user, passwords(user)));
            }

            messages.Add((publisher, new LoadMessage(IntakeTopology.ExchangeName(intake), "", json, type, id)));
        }

        return messages;
    }

    /// <summary>
    /// An empty database, its schema made, the shipped agreement texts approved (as a DPO would before they go live:
    /// the harness measures delivery, not holding), and an empty intake, declared as the gateway declares it.
    /// </summary>
    static async Task ResetAsync(RabbitMqOptions broker, IntakeOptions intake)
    {
        await using (var database = NpgsqlDataSource.Create(LoadSettings.Database()))
        {
            await using var reset = database.CreateCommand("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
            await reset.ExecuteNonQueryAsync();
            await Gateway.Storage.GatewaySchema.MigrateAsync(database, TimeProvider.System, CancellationToken.None);
            var shipped = Gateway.Policy.AgreementLoader.LoadDirectory(Path.Combine(LoadSettings.Root, "deploy", "config", "agreements")).Agreements;
            await new Gateway.Storage.AgreementVersions(database, TimeProvider.System).RecordAsync(shipped, "the load harness", CancellationToken.None);
        }

        await using var connection = await RabbitMqConnections.OpenAsync(broker, "integration-gateway-load", CancellationToken.None);
        await IntakeTopology.DeclareAsync(connection, intake, Controllers.All.SelectMany(c => c.BrokerUsers), CancellationToken.None);
        await using var channel = await connection.CreateChannelAsync();
        foreach (var queue in new[] { intake.QueueName, IntakeTopology.QuarantineQueue(intake) })
        {
            if (await channel.QueuePurgeAsync(queue) is var purged and > 0)
            {
                Progress.Line($"emptied {queue} of the harness's own virtual host ({purged:N0} messages left by an earlier run)");
            }
        }
    }

    Process StartGateway(int run, int replica)
    {
        var settings = new Dictionary<string, string>
        {
            ["RabbitMq:VirtualHost"] = LoadSettings.Env("IG_RABBITMQ_LOAD_VHOST"),
            ["ConnectionStrings:Gateway"] = LoadSettings.Database(),
            ["Urls"] = $"http://127.0.0.1:{LoadSettings.GatewayPort + replica}",
        };
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(LoadSettings.Root, "src", "Gateway", "appsettings.json")).Build();
        var simulator = new Uri($"http://127.0.0.1:{LoadSettings.SimulatorPort}/");
        foreach (var recipient in Gateway.Hosting.GatewayApp.Recipients(configuration))
        {
            settings[$"Recipients:{recipient}:BaseUrl"] = new Uri(simulator, $"recipients/{recipient.ToLowerInvariant()}").ToString();
        }

        return LoadSettings.Start(LoadSettings.Built("src/Gateway", "IntegrationGateway.Gateway.dll"), [], settings, Path.Combine(options.Output, $"gateway-{run}-{replica}.log"));
    }

    async Task<Process> StartSimulatorAsync(HttpClient http, int run)
    {
        var process = LoadSettings.Start(LoadSettings.Built("tests/AgencySimulator", "AgencySimulator.dll"), ["--urls", http.BaseAddress!.ToString().TrimEnd('/')],
            new Dictionary<string, string>(), Path.Combine(options.Output, $"simulator-{run}.log"));
        var started = time.GetTimestamp();
        while (true)
        {
            try
            {
                using var health = await http.GetAsync("health");
                if (health.IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (process.HasExited || time.GetElapsedTime(started) > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException($"the agency simulator did not answer on {http.BaseAddress} (is the port taken? IG_LOAD_SIMULATOR_PORT); see {options.Output}/simulator-{run}.log");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), time);
        }

        return process;
    }

    /// <summary>Waits until every event is settled (or quarantined), with a progress line every 2 s; fails when nothing moves for 60 s.</summary>
    async Task WaitSettledAsync(string label, RabbitMqOptions broker, IntakeOptions intake, int total, List<Process> gateways)
    {
        await using var connection = await RabbitMqConnections.OpenAsync(broker, "integration-gateway-load-watch", CancellationToken.None);
        await using var channel = await connection.CreateChannelAsync();
        await using var database = NpgsqlDataSource.Create(LoadSettings.Database());
        var lastChange = time.GetTimestamp();
        var lastLine = time.GetTimestamp();
        long lastLeft = -1;
        while (true)
        {
            if (gateways.FirstOrDefault(g => g.HasExited) is { } gone)
            {
                throw new InvalidOperationException($"{label}: a gateway exited ({gone.ExitCode}); see its log in {options.Output}");
            }

            var ready = (await channel.QueueDeclarePassiveAsync(intake.QueueName)).MessageCount;
            var quarantined = (await channel.QueueDeclarePassiveAsync(IntakeTopology.QuarantineQueue(intake))).MessageCount;
            long left = ready;
            if (ready == 0)
            {
                left = total - quarantined - await SettledCountAsync(database);
                if (left <= 0)
                {
                    return;
                }
            }

            if (left != lastLeft)
            {
                lastChange = time.GetTimestamp();
                lastLeft = left;
            }
            else if (time.GetElapsedTime(lastChange) > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException($"{label}: {left:N0} events still unsettled and nothing moved for 60 s; see the gateway's log in {options.Output}");
            }

            if (time.GetElapsedTime(lastLine) > TimeSpan.FromSeconds(2))
            {
                Progress.Line($"{label}: {left:N0} of {total:N0} events to go{(quarantined > 0 ? $", {quarantined:N0} quarantined" : "")}");
                lastLine = time.GetTimestamp();
            }

            await Task.Delay(TimeSpan.FromMilliseconds(ready == 0 ? 100 : 1000), time);
        }
    }

    static async Task<long> SettledCountAsync(NpgsqlDataSource database)
    {
        await using var count = database.CreateCommand("SELECT count(*) FROM intake_event WHERE settled_at IS NOT NULL");
        return (long)(await count.ExecuteScalarAsync())!;
    }

    /// <summary>Each event's settle moment, and how many of its transfers the ledger records as delivered.</summary>
    async Task<Dictionary<Guid, DateTimeOffset>> SettledAsync()
    {
        await using var database = NpgsqlDataSource.Create(LoadSettings.Database());
        var settled = new Dictionary<Guid, DateTimeOffset>();
        await using (var read = database.CreateCommand("SELECT event_id, settled_at FROM intake_event WHERE settled_at IS NOT NULL"))
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                settled[reader.GetGuid(0)] = reader.GetFieldValue<DateTimeOffset>(1);
            }
        }

        _transfers.Clear();
        await using (var read = database.CreateCommand("SELECT event_id, count(*) FROM ledger_entry WHERE kind = 'decision' AND outcome = 'delivered' GROUP BY event_id"))
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                _transfers[reader.GetGuid(0)] = (int)reader.GetInt64(1);
            }
        }

        return settled;
    }

    /// <summary>
    /// Every event published was taken and settled (none quarantined), every delivery the ledger records was received once
    /// in effect by the simulator with a valid signature and nothing outside the allow-lists, and no decision is anything
    /// but delivered or blocked. (The ledger chain's verification is the fault tier's and the drain test's.)
    /// </summary>
    async Task<(bool Ok, string Text)> AccountAsync(HttpClient http, IReadOnlyCollection<Guid> events)
    {
        await using var database = NpgsqlDataSource.Create(LoadSettings.Database());
        await using var outcomes = database.CreateCommand("SELECT outcome, count(*) FROM ledger_entry WHERE kind = 'decision' GROUP BY outcome");
        var byOutcome = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var reader = await outcomes.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                byOutcome[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        // Published but not settled: quarantined, or still being worked on.
        var unsettled = events.Count - await SeenAsync(database, events);
        var summary = await http.GetFromJsonAsync<List<RecipientSummary>>("records/summary") ?? [];
        var receipts = summary.Sum(s => s.Receipts);
        var duplicateEffects = summary.Sum(s => s.DuplicateEffects);
        var bad = summary.Sum(s => s.OutsideAllowList + s.InvalidSignatures);
        var delivered = byOutcome.GetValueOrDefault("delivered");
        var ok = unsettled == 0 && receipts == delivered && duplicateEffects == 0 && bad == 0 && byOutcome.Keys.All(k => k is "delivered" or "blocked");
        var text = $"{events.Count:N0} events, {unsettled} unsettled; decisions {string.Join(", ", byOutcome.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value:N0}"))}; " +
            $"receipts {receipts:N0}, duplicate effects {duplicateEffects}, outside allow-list or bad signature {bad}";
        return (ok, text);
    }

    static async Task<long> SeenAsync(NpgsqlDataSource database, IReadOnlyCollection<Guid> events)
    {
        await using var seen = database.CreateCommand("SELECT count(*) FROM intake_event WHERE event_id = ANY($1) AND settled_at IS NOT NULL");
        seen.Parameters.Add(new() { Value = events.ToArray() });
        return (long)(await seen.ExecuteScalarAsync())!;
    }

    sealed record RecipientSummary(string Recipient, int Receipts, int Deliveries, int DuplicateDeliveries, int DuplicateEffects, int OutsideAllowList, int InvalidSignatures);
}
