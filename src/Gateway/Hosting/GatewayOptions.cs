using System.ComponentModel.DataAnnotations;

namespace IntegrationGateway.Gateway.Hosting;

/// <summary>The broker, bound to <c>RabbitMq</c>.</summary>
public sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    [Required]
    public string Host { get; set; } = "127.0.0.1";

    [Range(1, 65535)]
    public int Port { get; set; } = 5682;

    [Required]
    public string VirtualHost { get; set; } = "integration-gateway";

    [Required]
    public string Username { get; set; } = "gateway";

    [Required]
    public string Password { get; set; } = "";

    /// <summary>How long start-up waits for the broker before the gateway gives up and exits.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The address without credentials, for messages that tell an operator where the gateway looked.</summary>
    public string Address => $"amqp://{Host}:{Port}/{VirtualHost}";

    /// <summary>The same broker, as another user (a controller's publisher, the quarantine's republisher).</summary>
    public RabbitMqOptions As(string username, string password) => new()
    {
        Host = Host, Port = Port, VirtualHost = VirtualHost, StartTimeout = StartTimeout, Username = username, Password = password,
    };
}

/// <summary>The intake queue, bound to <c>Intake</c>.</summary>
public sealed class IntakeOptions
{
    public const string Section = "Intake";

    /// <summary>Durable quorum queue the gateway consumes events from.</summary>
    [Required]
    public string QueueName { get; set; } = "integration-gateway.intake";

    /// <summary>Messages the broker hands the gateway ahead of time.</summary>
    [Range(1, 1000)]
    public int PrefetchCount { get; set; } = 32;

    /// <summary>Events processed at once.</summary>
    [Range(1, 1000)]
    public int ConcurrentMessageLimit { get; set; } = 32;

    /// <summary>
    /// In-process retries of an event after an unexpected error (not a failed delivery: see <c>Delivery</c>); after
    /// the last the message is quarantined with the rule <c>processing</c>.
    /// </summary>
    [Range(0, 20)]
    public int RetryLimit { get; set; } = 3;

    /// <summary>The largest message the intake reads; a larger one is quarantined with the rule <c>size</c>.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// At shutdown, how long events in flight get to finish before they are handed back to the queue. At most 30 s:
    /// the host allows 45 s for the whole stop.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:30")]
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the intake remembers an event id and its content hash: the same event published again within it is
    /// acknowledged as a duplicate, unsent; the same id with other content is quarantined as <c>event-id-reused</c>.
    /// After it, a republished event is worked on again (its recipients see the same idempotency keys).
    /// </summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan EventMemory { get; set; } = TimeSpan.FromDays(90);
}

/// <summary>Where the controller registry is read from, bound to <c>Controllers</c>.</summary>
public sealed class ControllersOptions
{
    public const string Section = "Controllers";

    /// <summary>The folder a configuration names, or the default: what the verbs read the registry from.</summary>
    public static string DirectoryIn(IConfiguration configuration) => configuration[$"{Section}:Directory"] ?? new ControllersOptions().Directory;

    /// <summary>Folder of controller YAML files; a relative path is taken from the current directory.</summary>
    [Required]
    public string Directory { get; set; } = "deploy/config/controllers";
}

/// <summary>Where agreement files are read from, bound to <c>Agreements</c>.</summary>
public sealed class AgreementsOptions
{
    public const string Section = "Agreements";

    /// <summary>Folder of agreement YAML files; a relative path is taken from the current directory.</summary>
    [Required]
    public string Directory { get; set; } = "deploy/config/agreements";
}
