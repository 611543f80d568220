using System.Net;
using System.Net.Sockets;
using IntegrationGateway.Gateway.Hosting;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace IntegrationGateway.IntegrationTests.Infrastructure;

/// <summary>
/// Where the real services are: the same environment variables deploy/local/env.sh exports, with the same
/// defaults. Tests use their own virtual host so they never consume the demo's messages.
/// </summary>
internal static class TestServices
{
    static readonly IConfiguration Environment = new ConfigurationBuilder().AddEnvironmentVariables().Build();

    /// <summary>The gateway's own appsettings.json, as built beside the tests (first: later fields read it).</summary>
    static readonly IConfiguration GatewayDefaults = new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"))
        .Build();

    public static string RabbitHost => Environment["RabbitMq:Host"] ?? "127.0.0.1";
    public static int RabbitPort => int.Parse(Environment["RabbitMq:Port"] ?? Environment["IG_RABBITMQ_PORT"] ?? "5682", System.Globalization.CultureInfo.InvariantCulture);
    public static string VirtualHost => Environment["IG_RABBITMQ_TEST_VHOST"] ?? "integration-gateway-test";
    public static string RabbitUser => Environment["RabbitMq:Username"] ?? "gateway";
    public static string RabbitPassword => Environment["RabbitMq:Password"] ?? LocalSecret("rabbitmq.password");

    /// <summary>
    /// A password deploy/local/env.sh made for this checkout (.local/secrets/&lt;name&gt;), for a test run without the
    /// script's environment; fails naming the file when there is none.
    /// </summary>
    static string LocalSecret(string name)
    {
        var file = Path.Combine(RepoPaths.Root, ".local", "secrets", name);
        if (!File.Exists(file))
        {
            throw new InvalidOperationException($"{file} does not exist: run deploy/local/up.sh (the README's test command does), which makes this checkout's passwords");
        }

        return File.ReadAllText(file).Trim();
    }
    public static string BrokerAddress => Broker.Address;

    /// <summary>Where deploy/local/env.sh keeps each controller publisher's password (.local/secrets/broker/&lt;user&gt;.password).</summary>
    public static string PublisherSecrets => Environment["Publishers:SecretsDirectory"] ?? Path.Combine(RepoPaths.Root, ".local", "secrets", "broker");

    /// <summary>A controller publisher's password; fails naming the file when deploy/local has not made it.</summary>
    public static string PublisherPassword(string user) => Gateway.Intake.ControllerPublishers.PasswordsIn(PublisherSecrets)(user);

    /// <summary>The quarantine's republisher (impersonator, write on the intake only), as deploy/local makes it.</summary>
    public static string RepublisherUser => Environment["Quarantine:Republisher:Username"] ?? "gateway-republisher";

    public static string RepublisherPassword => Environment["Quarantine:Republisher:Password"] ?? LocalSecret("republisher.password");

    /// <summary>The broker settings of a controller's publisher.</summary>
    public static RabbitMqOptions Publisher(string user) => Broker.As(user, PublisherPassword(user));

    /// <summary>The tests' broker as the gateway's own user.</summary>
    public static RabbitMqOptions Broker => new()
    {
        Host = RabbitHost,
        Port = RabbitPort,
        VirtualHost = VirtualHost,
        Username = RabbitUser,
        Password = RabbitPassword,
        Tls = BrokerTls,
    };

    /// <summary>TLS to the broker as deploy/local/env.sh sets it (<c>RabbitMq__Tls__*</c>): its TLS listener, its CA.</summary>
    public static RabbitMqTlsOptions BrokerTls => Environment.GetSection("RabbitMq:Tls").Get<RabbitMqTlsOptions>() ?? new RabbitMqTlsOptions();

    /// <summary>The gateway's database settings with the tests' own database, so tests never touch the demo's parked transfers or routes.</summary>
    public static string DatabaseConnectionString => new Npgsql.NpgsqlConnectionStringBuilder(Environment.GetConnectionString("Gateway")
        ?? $"Host=127.0.0.1;Port={Environment["IG_POSTGRES_PORT"] ?? "5442"};Username=gateway;Password={LocalSecret("postgres.password")};Timeout=5;Command Timeout=10")
    {
        Database = Environment["IG_POSTGRES_TEST_DB"] ?? "integration_gateway_test",
    }.ConnectionString;

    /// <summary>The shipped agreements, as if reviewed (<see cref="Tests.TestAgreements.ReviewedDirectory"/>): the suite does not depend on the day it runs.</summary>
    public static string Agreements => Tests.TestAgreements.ReviewedDirectory;

    /// <summary>The shipped agreements as if their instruments were complete (<see cref="Tests.TestAgreements.AsIfCompleteDirectory"/>).</summary>
    public static string AgreementsAsIfComplete => Tests.TestAgreements.AsIfCompleteDirectory;

    /// <summary>A signing secret per recipient for this test run only: the gateway signs with it, the simulator verifies.</summary>
    public static IReadOnlyDictionary<string, string> SigningSecrets { get; } =
        GatewayApp.Recipients(GatewayDefaults).ToDictionary(r => r.ToLowerInvariant(), _ => Adapters.StandardWebhooks.NewSecret());

    /// <summary>What the simulator needs to check what it receives: the secrets and the agreement files.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> SimulatorSettings =>
        SigningSecrets.Select(s => KeyValuePair.Create($"Recipients:{s.Key}:SigningSecret", (string?)s.Value))
            .Append(KeyValuePair.Create("Agreements:Directory", (string?)Agreements));

    /// <summary>The ledger key of this test run: the tests' ledger starts empty each run (see <see cref="ResetDatabaseAsync"/>).</summary>
    public static string LedgerKey { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>A key for this test run only, so tests can open what the gateway sealed (quarantine, parked payloads).</summary>
    public static string SealingKey { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>Fails the test, naming the broker address, when RabbitMQ does not accept connections.</summary>
    public static void RequireBroker()
    {
        try
        {
            using var client = new TcpClient();
            if (!client.ConnectAsync(RabbitHost, RabbitPort).Wait(TimeSpan.FromSeconds(3)))
            {
                throw new TimeoutException("no answer within 3 s");
            }
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException or AggregateException)
        {
            throw new InvalidOperationException(
                $"RabbitMQ is not reachable at {BrokerAddress} ({(ex as AggregateException)?.InnerException?.Message ?? ex.Message}). " +
                "Start it with deploy/local/up.sh (the README's test command does).", ex);
        }
    }

    /// <summary>Fails the test, naming the server, when PostgreSQL does not answer.</summary>
    public static async Task RequireDatabaseAsync()
    {
        var builder = new NpgsqlConnectionStringBuilder(DatabaseConnectionString);
        try
        {
            await using var connection = new NpgsqlConnection(DatabaseConnectionString);
            await connection.OpenAsync();
        }
        catch (NpgsqlException ex)
        {
            throw new InvalidOperationException(
                $"PostgreSQL is not reachable at {builder.Host}:{builder.Port}/{builder.Database} ({ex.Message}). Start it with deploy/local/up.sh.", ex);
        }
    }

    /// <summary>
    /// The tests' database as a fresh gateway would find it: schema current, no parked transfers, every route
    /// enabled, no event id remembered (the generator's seeds give the same ids in every run). Tests run one at a time, and each run seals with a key of its own, so rows of earlier runs are useless.
    /// </summary>
    public static async Task ResetDatabaseAsync()
    {
        await using var database = NpgsqlDataSource.Create(DatabaseConnectionString);
        try
        {
            await Gateway.Storage.GatewaySchema.MigrateAsync(database, TimeProvider.System, CancellationToken.None);
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains("pre-release schema", StringComparison.Ordinal))
        {
            // The tests' own database, made by an older checkout: its rows are of no use, so it is made anew.
            await using (var drop = database.CreateCommand("DROP TABLE IF EXISTS gateway_schema, parked_transfer, recipient_route, ledger_entry, subject_state, ops_audit, ops_key, intake_event, gateway_instance, ops_second_factor_step, ops_second_factor_recovery, ops_second_factor_failure, agreement_version CASCADE"))
            {
                await drop.ExecuteNonQueryAsync();
            }

            await Gateway.Storage.GatewaySchema.MigrateAsync(database, TimeProvider.System, CancellationToken.None);
        }
        await using var command = database.CreateCommand("TRUNCATE parked_transfer, recipient_route, ledger_entry, subject_state, ops_audit, ops_key, intake_event, gateway_instance, ops_second_factor_step, ops_second_factor_recovery, ops_second_factor_failure, agreement_version");
        await command.ExecuteNonQueryAsync();

        // The texts the tests run on, approved as a DPO would before they go live; a test about approval edits one.
        var shipped = Gateway.Policy.AgreementLoader.LoadDirectory(Agreements).Agreements.Concat(Gateway.Policy.AgreementLoader.LoadDirectory(AgreementsAsIfComplete).Agreements);
        await new Gateway.Storage.AgreementVersions(database, TimeProvider.System).RecordAsync(shipped, ApprovedByTheTests, CancellationToken.None);
    }

    /// <summary>Who approved the agreement texts the tests run on, in <c>agreement_version</c>.</summary>
    public const string ApprovedByTheTests = "the tests' DPO";

    /// <summary>Delivery settings that make a test's retries, parking and circuit quick to watch.</summary>
    public static IReadOnlyDictionary<string, string?> FastDelivery { get; } = new Dictionary<string, string?>
    {
        ["Delivery:Attempts"] = "3",
        ["Delivery:RetryBaseDelay"] = "00:00:00.050",
        ["Delivery:RetryMaxDelay"] = "00:00:00.500",
        ["Delivery:ParkedRetryBaseDelay"] = "00:00:01",
        ["Delivery:ParkedRetryMaxDelay"] = "00:00:04",
        ["Delivery:SchedulerInterval"] = "00:00:00.250",
    };

    /// <summary>The gateway's settings for one test: its own intake queue, the test virtual host, every recipient at the simulator.</summary>
    public static Dictionary<string, string?> GatewaySettings(string queueName, Uri simulator, int httpPort)
    {
        var settings = new Dictionary<string, string?>
        {
        ["Urls"] = $"http://127.0.0.1:{httpPort}",
        ["RabbitMq:Host"] = RabbitHost,
        ["RabbitMq:Port"] = RabbitPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RabbitMq:VirtualHost"] = VirtualHost,
        ["RabbitMq:Username"] = RabbitUser,
        ["RabbitMq:Password"] = RabbitPassword,
        ["RabbitMq:Tls:Enabled"] = BrokerTls.Enabled ? "true" : "false",
        ["RabbitMq:Tls:CaFile"] = BrokerTls.CaFile,
        ["ConnectionStrings:Gateway"] = DatabaseConnectionString,
        ["Intake:QueueName"] = queueName,
        ["Sealing:Key"] = SealingKey,
        ["Ledger:Key"] = LedgerKey,
        ["Agreements:Directory"] = Agreements,
        ["Controllers:Directory"] = RepoPaths.Controllers,
        ["Publishers:SecretsDirectory"] = PublisherSecrets,
        };
        foreach (var (key, value) in OpsSignIn.Users)
        {
            settings[key] = value;
        }

        foreach (var recipient in GatewayApp.Recipients(GatewayDefaults))
        {
            settings[$"Recipients:{recipient}:BaseUrl"] = new Uri(simulator, $"recipients/{recipient.ToLowerInvariant()}").ToString();
            settings[$"Recipients:{recipient}:SigningSecret"] = SigningSecrets[recipient.ToLowerInvariant()];
        }

        return settings;
    }


    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
