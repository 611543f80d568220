using System.ComponentModel.DataAnnotations;

namespace IntegrationGateway.Gateway.Hosting;

/// <summary>The broker, bound to <c>RabbitMq</c>.</summary>
public sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    /// <summary>No default: a production gateway names its broker (deploy/local sets 127.0.0.1).</summary>
    [Required]
    public string Host { get; set; } = "";

    int? _port;

    /// <summary>AMQP's own port unless set: 5671 with TLS, 5672 without.</summary>
    [Range(1, 65535)]
    public int Port
    {
        get => _port ?? (Tls.Enabled ? 5671 : 5672);
        set => _port = value;
    }

    /// <summary>
    /// The cluster's other nodes, each <c>host</c> or <c>host:port</c> (<see cref="Port"/> unless given). The gateway
    /// connects to whichever node answers, in random order, and when that node goes down reconnects to another by
    /// itself; its quorum queues live on all of them.
    /// </summary>
    public List<string> Nodes { get; set; } = [];

    [Required]
    public string VirtualHost { get; set; } = "integration-gateway";

    [Required]
    public string Username { get; set; } = "gateway";

    [Required]
    public string Password { get; set; } = "";

    /// <summary>TLS to the broker: required for any host but loopback (see <see cref="Refusal"/>).</summary>
    public RabbitMqTlsOptions Tls { get; set; } = new();

    /// <summary>How long start-up waits for the broker before the gateway gives up and exits.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The address without credentials, for messages that tell an operator where the gateway looked.</summary>
    public string Address =>
        $"{(Tls.Enabled ? "amqps" : "amqp")}://{string.Join(',', Nodes.Select(n => ParseNode(n) is { } node ? Show(node) : n).Prepend(Show((Host, Port))))}/{VirtualHost}";

    static string Show((string Host, int Port) broker) => broker.Host.Contains(':') ? $"[{broker.Host}]:{broker.Port}" : $"{broker.Host}:{broker.Port}";

    /// <summary><see cref="Host"/> and then each of <see cref="Nodes"/>, with their ports.</summary>
    public IReadOnlyList<(string Host, int Port)> Brokers()
    {
        var brokers = new List<(string, int)> { (Host, Port) };
        foreach (var node in Nodes)
        {
            brokers.Add(ParseNode(node) ?? throw new InvalidOperationException(NodeProblem(node)));
        }

        return brokers;
    }

    (string Host, int Port)? ParseNode(string node)
    {
        var text = node.Trim();
        // host, host:port, [v6] or [v6]:port; a bare IPv6 address has more than one colon and no port.
        var colon = text.LastIndexOf(':');
        var bracketed = text.StartsWith('[');
        if (colon > 0 && (bracketed ? text[colon - 1] == ']' : text.IndexOf(':') == colon))
        {
            var named = bracketed ? text[1..(colon - 1)] : text[..colon];
            return int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535
                   && named.Length > 0 && (!bracketed || System.Net.IPAddress.TryParse(named, out _))
                ? (named, port)
                : null;
        }

        // A bare host: a name, or an address; with colons only an IPv6 address, brackets closed.
        var host = bracketed ? (text.EndsWith(']') ? text[1..^1] : "") : text;
        var valid = host.Length > 0 && !host.Contains('/') && !host.Contains(' ') && !host.Contains('[') && !host.Contains(']')
                    && (!host.Contains(':') || System.Net.IPAddress.TryParse(host, out _));
        return valid ? (host, Port) : null;
    }

    static string NodeProblem(string node) => $"RabbitMq:Nodes has '{node}', which is not host or host:port (a port from 1 to 65535).";

    /// <summary>The same broker, as another user (a controller's publisher, the quarantine's republisher).</summary>
    public RabbitMqOptions As(string username, string password) => new()
    {
        Host = Host, Port = Port, Nodes = Nodes, VirtualHost = VirtualHost, StartTimeout = StartTimeout, Tls = Tls, Username = username, Password = password,
    };

    /// <summary>
    /// Why these settings may not be used, naming the key; null when they may. Without TLS the broker's password
    /// (SASL PLAIN) and every event (identifiers, addresses, support plans) cross the network in clear, so a plain
    /// connection is for loopback only.
    /// </summary>
    public string? Refusal()
    {
        if (Nodes.FirstOrDefault(n => ParseNode(n) is null) is { } bad)
        {
            return NodeProblem(bad);
        }

        if (!Tls.Enabled)
        {
            return Brokers().FirstOrDefault(b => !Loopback.Is(b.Host)) is not ({ } host, _)
                ? null
                : $"RabbitMq:Tls is not enabled, and the broker '{host}' (RabbitMq:Host or :Nodes) is not a loopback address: the broker password and every event would cross the network unencrypted. " +
                  "Set RabbitMq:Tls:Enabled=true (and RabbitMq:Tls:CaFile when the broker's certificate comes from a private CA).";
        }

        foreach (var (key, file) in new[] { ("CaFile", Tls.CaFile), ("ClientCertificateFile", Tls.ClientCertificateFile), ("ClientKeyFile", Tls.ClientKeyFile) })
        {
            if (file is not null && !File.Exists(file))
            {
                return $"RabbitMq:Tls:{key} names {file}, which does not exist.";
            }
        }

        return (Tls.ClientCertificateFile is null) == (Tls.ClientKeyFile is null)
            ? null
            : "RabbitMq:Tls: give both ClientCertificateFile and ClientKeyFile (PEM), or neither.";
    }
}

/// <summary>TLS to the broker, bound to <c>RabbitMq:Tls</c>.</summary>
public sealed class RabbitMqTlsOptions
{
    public bool Enabled { get; set; }

    /// <summary>The name every broker's certificate must carry; unless set, each node's own host name (<c>RabbitMq:Host</c>, <c>:Nodes</c>).</summary>
    public string? ServerName { get; set; }

    /// <summary>PEM file of the certificate authority the broker's certificate must chain to; the machine's trust store unless set.</summary>
    public string? CaFile { get; set; }

    /// <summary>PEM certificate the gateway shows a broker that asks for one (with <see cref="ClientKeyFile"/>).</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>PEM private key of <see cref="ClientCertificateFile"/>.</summary>
    public string? ClientKeyFile { get; set; }
}

/// <summary>Whether a host names this machine's loopback interface, by its literal address or as <c>localhost</c> (no name is resolved).</summary>
public static class Loopback
{
    public static bool Is(string? host) =>
        host is not null && (string.Equals(host.TrimEnd('.'), "localhost", StringComparison.OrdinalIgnoreCase)
                             || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address)));
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

    /// <summary>
    /// Approve every agreement text as it is loaded, as <c>approved_by</c> "approve-on-load": for the demo, the tests and
    /// the load harness on synthetic data only. Off by default; the gateway refuses it outside Development.
    /// </summary>
    public bool ApproveOnLoad { get; set; }
}
