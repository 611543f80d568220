using IntegrationGateway.AgencySimulator;
using IntegrationGateway.Gateway.Hosting;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace IntegrationGateway.IntegrationTests.Infrastructure;

/// <summary>
/// What one integration test needs: the real broker and database (checked first, failing loudly), the agency
/// simulator on a loopback port, a publisher acting as a school system, and an intake queue of the test's own,
/// removed afterwards.
/// </summary>
internal sealed class TestBed : IAsyncDisposable
{
    readonly List<IAsyncDisposable> _cleanup = [];

    TestBed(WebApplication simulator)
    {
        Simulator = simulator;
    }

    public string QueueName { get; } = $"it.intake.{Guid.NewGuid():N}";
    public string QuarantineQueue => QueueName + ".quarantine";
    public WebApplication Simulator { get; }
    public Uri SimulatorUrl => new(Simulator.Urls.First(u => u.StartsWith("http:", StringComparison.Ordinal)).TrimEnd('/') + "/");
    /// <summary>The controllers' systems as MassTransit publishers, each as its own broker user.</summary>
    public ControllerBuses Publisher { get; } = new();
    public ReceiptStore Receipts => Simulator.Services.GetRequiredService<ReceiptStore>();
    public SimulatorBehaviour SimulatorBehaviour => Simulator.Services.GetRequiredService<SimulatorBehaviour>();

    /// <param name="simulatorSettings">More settings for the simulator (e.g. an OAuth client of a recipient).</param>
    /// <param name="simulatorUrls">Where the simulator listens; plain HTTP on a free loopback port unless given.</param>
    public static async Task<TestBed> StartAsync(IEnumerable<KeyValuePair<string, string?>>? simulatorSettings = null, string simulatorUrls = "http://127.0.0.1:0")
    {
        TestServices.RequireBroker();
        await TestServices.RequireDatabaseAsync();
        await TestServices.ResetDatabaseAsync();

        var simulator = SimulatorApp.Create([], simulatorUrls, TestServices.SimulatorSettings.Concat(simulatorSettings ?? []));
        await simulator.StartAsync();
        return new TestBed(simulator);
    }

    public Dictionary<string, string?> GatewaySettings(int? httpPort = null) =>
        TestServices.GatewaySettings(QueueName, SimulatorUrl, httpPort ?? TestServices.FreePort());

    /// <summary>The same with <see cref="TestServices.FastDelivery"/>: quick retries, parking and scheduler rounds.</summary>
    public Dictionary<string, string?> FastGatewaySettings()
    {
        var settings = GatewaySettings();
        foreach (var (key, value) in TestServices.FastDelivery)
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>The gateway in this process, composed exactly as the service composes itself.</summary>
    public async Task<WebApplication> StartGatewayInProcessAsync(
        IDictionary<string, string?>? overrides = null, Action<WebApplicationBuilder>? configure = null, Action<IServiceCollection>? replace = null)
    {
        var settings = GatewaySettings();
        settings["Logging:LogLevel:Default"] = "Warning"; // the test host's console is shared by every test
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var gateway = GatewayApp.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            configure?.Invoke(builder);
        }, replace);
        _cleanup.Add(gateway);
        await gateway.StartAsync();
        InProcess = gateway;
        return gateway;
    }

    /// <summary>The gateway this bed started in process last, if any.</summary>
    public WebApplication? InProcess { get; private set; }

    /// <summary>Messages the in-process gateway has taken from its intake so far (accepted or quarantined).</summary>
    public long Taken => InProcess?.Services.GetRequiredService<IntegrationGateway.Gateway.Intake.IntakeCounters>() is { } intake ? intake.Accepted + intake.Quarantined : 0;

    /// <summary>
    /// Waits until the in-process gateway has taken <paramref name="messages"/> messages from its intake since it started
    /// (accepted or quarantined): each is then settled, its ledger entries committed and the message acknowledged. What
    /// a test waits for instead of a fixed delay when nothing arrives at a recipient to show it.
    /// </summary>
    public Task WaitForTakenAsync(long messages, TimeSpan? timeout = null)
    {
        var intake = (InProcess ?? throw new InvalidOperationException("no gateway was started in process")).Services.GetRequiredService<IntegrationGateway.Gateway.Intake.IntakeCounters>();
        return WaitUntilAsync($"{messages} message(s) taken from the intake", () => intake.Accepted + intake.Quarantined >= messages, timeout ?? TimeSpan.FromSeconds(30));
    }

    public GatewayProcess StartGatewayProcess(Dictionary<string, string?> settings)
    {
        var process = GatewayProcess.Start(settings);
        _cleanup.Add(process);
        return process;
    }

    /// <summary>What the publishing guide tells MassTransit publishers to set on each publish: unroutable is an error.</summary>
    public static void Mandatory(PublishContext context)
    {
        if (context.TryGetPayload<RabbitMqSendContext>(out var rabbit))
        {
            rabbit.Mandatory = true;
        }
    }

    public async Task PublishAsync<T>(IEnumerable<T> messages)
        where T : class
    {
        foreach (var message in messages)
        {
            await Publisher.Publish(message);
        }
    }

    /// <summary>Waits until <paramref name="done"/> holds; fails the test saying what it waited for when <paramref name="timeout"/> passes first.</summary>
    public static async Task WaitUntilAsync(string what, Func<bool> done, TimeSpan timeout)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!done())
        {
            if (waited.Elapsed >= timeout)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0} s waiting for {what}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the simulator holds at least <paramref name="count"/> receipts for the recipient.</summary>
    public async Task<IReadOnlyList<Receipt>> WaitForReceiptsAsync(string recipient, int count, TimeSpan timeout)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<Receipt> receipts;
        while ((receipts = Receipts.List(recipient)).Count < count && waited.Elapsed < timeout)
        {
            await Task.Delay(100);
        }

        return receipts;
    }

    /// <summary>Waits until the tests' database holds exactly <paramref name="count"/> parked transfers (or time runs out); returns how many it holds.</summary>
    public async Task<long> WaitForParkedAsync(long count, TimeSpan timeout)
    {
        await using var database = Npgsql.NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            await using var command = database.CreateCommand("SELECT count(*) FROM parked_transfer");
            var parked = (long)(await command.ExecuteScalarAsync())!;
            if (parked == count || waited.Elapsed > timeout)
            {
                return parked;
            }

            await Task.Delay(100);
        }
    }

    public async Task<uint?> MessagesInQueueAsync(string queue)
    {
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return null; // no such queue
        }
    }

    public RabbitMqOptions Broker => TestServices.Broker;

    public IntakeOptions Intake => new() { QueueName = QueueName };

    /// <summary>The publisher the docs recommend (confirms, mandatory, user_id), as a controller's broker user, aimed at this test's intake exchange.</summary>
    public Task<Gateway.Intake.IntakePublisher> ConnectIntakePublisherAsync(string user = "school-003-magister") =>
        Gateway.Intake.IntakePublisher.ConnectAsync(TestServices.Publisher(user), Intake);

    /// <summary>Publishers as the shipped controllers' systems: each event as the broker user of the controller its source names.</summary>
    public Gateway.Intake.ControllerPublishers ControllerPublishers() =>
        new(TestServices.Publisher("school-003-magister"), Intake, IntegrationGateway.Tests.TestAgreements.Shipped, TestServices.PublisherPassword);

    /// <summary>The broker user of the shipped controller an institution id belongs to (the generator's: 12AB school-003, 126151 cvo-focus, 0507873093 in-gent).</summary>
    public static string PublisherFor(string institutionId) =>
        IntegrationGateway.Tests.TestAgreements.Shipped.ByInstitution(institutionId)?.BrokerUsers[0] ?? throw new ArgumentException($"no shipped controller has {institutionId}");

    /// <summary>Every message in a queue, taken off it (the test's queues go at the end anyway).</summary>
    public async Task<List<QueuedMessage>> DrainAsync(string queue)
    {
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        var messages = new List<QueuedMessage>();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } message)
        {
            var headers = (message.BasicProperties.Headers ?? new Dictionary<string, object?>()).ToDictionary(
                h => h.Key, h => h.Value is byte[] bytes ? System.Text.Encoding.UTF8.GetString(bytes) : Convert.ToString(h.Value, System.Globalization.CultureInfo.InvariantCulture));
            messages.Add(new QueuedMessage(message.BasicProperties.MessageId, message.BasicProperties.Type, headers, message.Body.ToArray()));
        }

        return messages;
    }

    public static Task<IConnection> ConnectAsync() => Gateway.Intake.RabbitMqConnections.OpenAsync(TestServices.Broker, "integration-tests", CancellationToken.None);

    /// <summary>A connection as a controller's publisher: write on the intake exchanges, nothing else; set <c>UserId</c> to <paramref name="user"/> on what it publishes.</summary>
    public static Task<IConnection> ConnectAsPublisherAsync(string user = "school-003-magister") =>
        Gateway.Intake.RabbitMqConnections.OpenAsync(TestServices.Publisher(user), "integration-tests-publisher", CancellationToken.None);

    /// <summary>
    /// An enrolment published raw by school 003's broker user, as a school system with its own tracing would: W3C trace
    /// context (<c>traceparent</c> with <paramref name="trace"/> and <paramref name="span"/>, <c>tracestate school=1</c>)
    /// in the message headers.
    /// </summary>
    public async Task PublishWithTraceContextAsync(Contracts.StudentEnrolled enrolment, System.Diagnostics.ActivityTraceId trace, System.Diagnostics.ActivitySpanId span)
    {
        await using var connection = await ConnectAsPublisherAsync();
        await using var channel = await connection.CreateChannelAsync();
        var properties = new BasicProperties
        {
            UserId = "school-003-magister", Persistent = true, ContentType = "application/json", Type = nameof(Contracts.StudentEnrolled), MessageId = enrolment.EventId.ToString("D"),
            Headers = new Dictionary<string, object?> { ["traceparent"] = $"00-{trace}-{span}-01", ["tracestate"] = "school=1" },
        };
        await channel.BasicPublishAsync(QueueName, "", mandatory: true, properties,
            System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(enrolment, Gateway.Intake.EventJsonContext.Default.StudentEnrolled));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            for (var i = _cleanup.Count - 1; i >= 0; i--)
            {
                await _cleanup[i].DisposeAsync();
            }

            await Publisher.DisposeAsync();
            await Simulator.DisposeAsync();
        }
        finally
        {
            await DeleteQueuesAsync();
        }
    }

    /// <summary>
    /// The test's queues and its intake exchange go, whatever failed before: left behind, the intake exchange stays
    /// bound to the contract exchanges and a later test's "nothing is bound" publish is confirmed instead.
    /// </summary>
    async Task DeleteQueuesAsync()
    {
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        foreach (var name in new[] { QueueName, QuarantineQueue })
        {
            await channel.QueueDeleteAsync(name);
            await channel.ExchangeDeleteAsync(name);
        }
    }
}

/// <summary>A message as it sat in a queue: its id, type, headers (as text) and body.</summary>
internal sealed record QueuedMessage(string? MessageId, string? Type, IReadOnlyDictionary<string, string?> Headers, byte[] Body);
