using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Health;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Subjects;
using IntegrationGateway.Gateway.Ops;
using IntegrationGateway.Gateway.Sealing;
using IntegrationGateway.Gateway.Storage;
using IntegrationGateway.Gateway.Telemetry;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IntegrationGateway.Gateway.Hosting;

/// <summary>Composes the gateway host. Reads like a table of contents; each step lives next to the code it wires.</summary>
public static class GatewayApp
{
    /// <param name="args">The command line: host switches and <c>--Section:Key value</c> settings.</param>
    /// <param name="configure">Runs before the gateway registers its services: configuration and logging.</param>
    /// <param name="replace">Runs after: replaces registered services (fault injection in tests).</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null, Action<IServiceCollection>? replace = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // appsettings.json ships beside the binary; the current directory is where relative paths start.
            ContentRootPath = AppContext.BaseDirectory,
        });
        // A singleton that captures a scoped service (an adapter's typed HttpClient, say) fails at start, in every
        // environment, not only in Development.
        builder.Host.UseDefaultServiceProvider(provider =>
        {
            provider.ValidateScopes = true;
            provider.ValidateOnBuild = true;
        });
        configure?.Invoke(builder);
        if (StartupSafety.Refusals(builder.Configuration, builder.Environment.IsDevelopment()) is { Count: > 0 } refusals)
        {
            throw new UnsafeSettingsException(refusals);
        }

        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(45));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddGatewayTelemetry(builder.Configuration);
        // Hosted services start in this order: the schema first, then the parked-transfer scheduler, then the intake.
        builder.Services.AddGatewayPolicy(builder.Configuration);
        builder.Services.AddGatewayDatabase(builder.Configuration);
        builder.Services.AddRecipientAdapters(builder.Configuration);
        builder.Services.AddGatewayIntake(builder.Configuration);
        builder.Services.AddOpsApp(builder.Configuration);
        replace?.Invoke(builder.Services);

        var app = builder.Build();
        app.Services.EnsureEveryRecipientHasAnAdapter();
        app.MapGatewayHealth();
        app.MapOpsApp();
        app.MapOpsSummary();
        return app;
    }

    /// <summary>
    /// Starts the host. A failure names the broker and database the gateway was pointed at (never credentials), so
    /// an operator sees at once where it looked.
    /// </summary>
    public static async Task StartGatewayAsync(this WebApplication app)
    {
        try
        {
            await app.StartAsync();
        }
        catch (Exception ex) when (ex is not AgreementsInvalidException)
        {
            var broker = app.Services.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
            var database = PostgresHealthCheck.Describe(app.Services.GetRequiredService<NpgsqlDataSource>().ConnectionString);
            throw new GatewayStartException($"RabbitMQ at {broker.Address}, {database}: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    static class Retention
    {
        public static bool IsValid(LedgerRetentionOptions options)
        {
            try
            {
                LedgerPurge.Validate(options);
                return true;
            }
            catch (FormatException)
            {
                return false;
            }
        }
    }

    /// <summary>The recipient ids configured under <c>Recipients</c>, as written there.</summary>
    public static IEnumerable<string> Recipients(IConfiguration configuration) =>
        configuration.GetSection("Recipients").GetChildren().Select(c => c.Key);

    /// <summary>
    /// The gateway's data source. Unless the connection string says otherwise, the statements it runs per event are
    /// prepared once per connection (Npgsql's auto-prepare) instead of parsed and planned by PostgreSQL every time.
    /// </summary>
    internal static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // Set in the connection string (either spelling, e.g. "Max Auto Prepare=0" to opt out): left as it is.
        if (!connectionString.Contains("AutoPrepare", StringComparison.OrdinalIgnoreCase) && !connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxAutoPrepare = 32;
            builder.AutoPrepareMinUsages = 2;
        }

        return NpgsqlDataSource.Create(builder.ConnectionString);
    }

    static IServiceCollection AddGatewayDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("Gateway")
            ?? throw new InvalidOperationException("ConnectionStrings:Gateway is not set: the gateway needs its PostgreSQL database.");
        services.AddSingleton(_ => CreateDataSource(connectionString));
        services.AddSingleton(_ => Sealer.FromBase64(configuration[Sealer.ConfigurationKey]));
        services.AddHostedService<SchemaMigration>();
        // After the schema, before the intake: the texts loaded are recorded and their approvals read first.
        services.AddSingleton<AgreementVersions>();
        services.AddSingleton<AgreementApprovals>();
        services.AddHostedService<AgreementApprovalWatcher>();
        // The ledger writer starts after the schema and stops after the intake (hosted services stop in reverse).
        services.AddSingleton(_ => LedgerKeys.FromBase64(configuration[LedgerKeys.ConfigurationKey]));
        services.AddSingleton<DatabaseOutage>();
        services.AddSingleton<LedgerWriter>();
        services.AddSingleton<ITransferLedger>(provider => provider.GetRequiredService<LedgerWriter>());
        services.AddSingleton<SubjectStates>();
        services.AddSingleton<ISubjectRegistry>(provider => provider.GetRequiredService<SubjectStates>());
        services.AddSingleton<ISubjectHistory, LedgerSubjectHistory>();
        services.AddSingleton<IEventRegister, IntakeEvents>();
        services.AddSingleton<SubjectNotices>();
        services.AddHostedService(provider => provider.GetRequiredService<LedgerWriter>());
        services.AddOptions<LedgerRetentionOptions>().Bind(configuration.GetSection(LedgerRetentionOptions.Section))
            .Validate(Retention.IsValid, $"{LedgerRetentionOptions.Section}: every duration must be an ISO-8601 duration such as P7Y ('ledger purge --dry-run' names the one that is not)")
            .ValidateOnStart();
        services.AddHostedService<LedgerRetentionService>();
        // Registered before the scheduler: it starts before it, and stops after it, giving back what it still leases.
        services.AddSingleton<GatewayInstance>();
        services.AddHostedService(provider => provider.GetRequiredService<GatewayInstance>());
        services.AddSingleton<ParkedTransfers>();
        services.AddSingleton<ITransferStore>(provider => provider.GetRequiredService<ParkedTransfers>());
        services.AddSingleton<RecipientRoutes>();
        services.AddSingleton<IRecipientRoutes>(provider => provider.GetRequiredService<RecipientRoutes>());
        services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgres", tags: [HealthEndpoints.ReadyTag]);
        return services;
    }

    /// <summary>
    /// Counts since start, per recipient and outcome, each recipient's circuit and the transfers parked for it now
    /// (from the database): no personal data, safe for any operator.
    /// </summary>
    static void MapOpsSummary(this WebApplication app)
    {
        app.MapGet("/", () => Results.Redirect("/ops/transfers"));
        app.MapGet("/ops", () => Results.Redirect("/ops/transfers"));
        app.MapGet("/ops/summary", async (HttpContext http, TransferCounters counters, IntakeCounters intake, RecipientResilience resilience, NpgsqlDataSource database, RecipientAdapters adapters, CancellationToken cancellationToken) =>
        {
            if (!OpsScope.Of(http.User).IsPlatform)
            {
                // The counters since start are the whole platform's: a controller's staff read the transfers and recipients pages.
                return Results.Forbid();
            }

            var snapshot = counters.Snapshot();
            IReadOnlyList<(string Recipient, string State, long Count)>? parked;
            try
            {
                parked = await ParkedTransfers.CountsAsync(database, cancellationToken);
            }
            catch (NpgsqlException)
            {
                parked = null; // the database is away: readiness says so; the rest of the summary still holds
            }

            return Results.Json(new
            {
                intake = new
                {
                    accepted = intake.Accepted,
                    subjectStateOnly = intake.SubjectStateOnly,
                    duplicates = intake.Duplicates,
                    quarantined = intake.Quarantined,
                    quarantinedByRule = intake.QuarantinedByRule,
                },
                eventsSettled = snapshot.EventsSettled,
                eventsUnrouted = snapshot.EventsUnrouted,
                recipients = snapshot.Recipients.Union(adapters.Recipients).Order(StringComparer.Ordinal).Select(r => new
                {
                    recipient = r,
                    delivered = snapshot.Count(r, TransferOutcome.Delivered),
                    blocked = snapshot.Count(r, TransferOutcome.Blocked),
                    parked = snapshot.Count(r, TransferOutcome.Parked),
                    failed = snapshot.Count(r, TransferOutcome.Failed),
                    circuit = resilience.CircuitOf(r)?.ToString() ?? "Closed",
                    waitingNow = parked?.Where(p => p.Recipient == r).ToDictionary(p => p.State, p => p.Count),
                }),
            });
        }).RequireAuthorization(OpsPolicies.Flow);
    }
}

/// <summary>The host did not start; the message says which services it was pointed at.</summary>
public sealed class GatewayStartException(string message, Exception inner) : Exception(message, inner);
