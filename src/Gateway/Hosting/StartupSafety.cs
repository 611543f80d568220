using Npgsql;

namespace IntegrationGateway.Gateway.Hosting;

/// <summary>
/// Settings the gateway will not start with, each refusal naming its key (never a value that could be a secret). In
/// every environment: a broker or database on another host without TLS that checks its certificate. Outside
/// Development also: a password this repository ever shipped, and a recipient or token endpoint that is not HTTPS
/// (loopback excepted). A forgotten override then stops the gateway instead of sending personal data in clear.
/// </summary>
public static class StartupSafety
{
    /// <summary>Passwords known from this repository's history and the services' own defaults.</summary>
    static readonly string[] DevelopmentPasswords = ["gateway-local", "guest", "postgres"];

    public static IReadOnlyList<string> Refusals(IConfiguration configuration, bool development)
    {
        var refusals = new List<string>();
        var broker = configuration.GetSection(RabbitMqOptions.Section).Get<RabbitMqOptions>() ?? new RabbitMqOptions();
        if (!string.IsNullOrEmpty(broker.Host) && broker.Refusal() is { } brokerRefusal)
        {
            refusals.Add(brokerRefusal);
        }

        var database = configuration.GetConnectionString("Gateway") is { } connectionString ? new NpgsqlConnectionStringBuilder(connectionString) : null;
        if (database is { Host: { } host } && !host.Split(',').All(h => h.StartsWith('/') || Loopback.Is(HostOf(h.Trim()))) && database.SslMode != SslMode.VerifyFull)
        {
            refusals.Add($"ConnectionStrings:Gateway names the host '{host}' with SSL Mode={database.SslMode}: outside loopback the gateway requires SSL Mode=VerifyFull " +
                         "(and Root Certificate=<the CA's PEM file> for a private CA), so the ledger and parked payloads go only to the server whose certificate names it.");
        }

        if (development)
        {
            return refusals;
        }

        if (configuration.GetValue<bool>($"{AgreementsOptions.Section}:{nameof(AgreementsOptions.ApproveOnLoad)}"))
        {
            refusals.Add($"{AgreementsOptions.Section}:{nameof(AgreementsOptions.ApproveOnLoad)} is true: every agreement text would be approved as it is loaded, without a DPO. " +
                         "It is for synthetic data (the demo, the tests) in Development only; approve each text with 'policy approve'.");
        }

        var passwords = new[]
        {
            ("RabbitMq:Password", (string?)broker.Password),
            ("ConnectionStrings:Gateway (its Password)", database?.Password),
            ("Quarantine:Republisher:Password", configuration["Quarantine:Republisher:Password"]),
        };
        foreach (var (key, password) in passwords)
        {
            if (password is not null && DevelopmentPasswords.Contains(password, StringComparer.Ordinal))
            {
                refusals.Add($"{key} is a development password known from this repository or the service's defaults; outside Development give the real one (environment or secret store).");
            }
        }

        foreach (var recipient in configuration.GetSection("Recipients").GetChildren())
        {
            foreach (var key in new[] { "BaseUrl", "OAuth:TokenUrl" })
            {
                if (recipient[key] is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme != Uri.UriSchemeHttps && !Loopback.Is(uri.Host))
                {
                    refusals.Add($"Recipients:{recipient.Key}:{key} is not an https URL: outside Development the gateway sends personal data and client secrets over HTTPS only (loopback excepted).");
                }
            }
        }

        return refusals;
    }

    /// <summary>A host of a connection string's list without its port: <c>[::1]:5442</c>, <c>::1</c>, <c>db:5432</c>, <c>db</c>.</summary>
    static string HostOf(string entry) =>
        entry.StartsWith('[') ? entry[1..Math.Max(1, entry.IndexOf(']', StringComparison.Ordinal))]
        : entry.Count(c => c == ':') == 1 ? entry[..entry.IndexOf(':', StringComparison.Ordinal)]
        : entry;
}

/// <summary>Settings the gateway refuses to start with (see <see cref="StartupSafety"/>).</summary>
public sealed class UnsafeSettingsException(IReadOnlyList<string> refusals)
    : Exception($"{refusals.Count} setting(s) refused: {string.Join(" ", refusals.Select((r, i) => $"({i + 1}) {r}"))}")
{
    public IReadOnlyList<string> Refusals { get; } = refusals;
}
