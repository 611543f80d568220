using IntegrationGateway.Gateway.Hosting;
using Microsoft.Extensions.Configuration;

namespace IntegrationGateway.Tests;

/// <summary>Settings the gateway refuses at start, each refusal naming its key and none quoting a secret.</summary>
public sealed class StartupSafetyTests
{
    /// <summary>What a production deployment gives: a remote broker and database over verified TLS, HTTPS recipients, real passwords.</summary>
    static readonly Dictionary<string, string?> Safe = new()
    {
        ["RabbitMq:Host"] = "broker.example.nl",
        ["RabbitMq:Password"] = "s3cret-from-the-vault",
        ["RabbitMq:Tls:Enabled"] = "true",
        ["ConnectionStrings:Gateway"] = "Host=db.example.nl;Database=gateway;Username=gateway;Password=s3cret-too;SSL Mode=VerifyFull",
        ["Quarantine:Republisher:Password"] = "another-one",
        ["Recipients:Duo:BaseUrl"] = "https://duo.example.nl/api",
        ["Recipients:leerplicht:BaseUrl"] = "https://leerplicht.example.nl/",
        ["Recipients:leerplicht:OAuth:TokenUrl"] = "https://login.example.nl/token",
    };

    static IReadOnlyList<string> RefusalsWith(bool development, params (string Key, string? Value)[] changes)
    {
        var settings = new Dictionary<string, string?>(Safe);
        foreach (var (key, value) in changes)
        {
            settings[key] = value;
        }

        return StartupSafety.Refusals(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), development);
    }

    [Fact]
    public void ProductionSettings_AreAccepted() => Assert.Empty(RefusalsWith(development: false));

    [Theory]
    [InlineData("RabbitMq:Tls:Enabled", "false", "RabbitMq:Tls")]
    [InlineData("RabbitMq:Tls:CaFile", "/nonexistent/ca.crt", "RabbitMq:Tls:CaFile")]
    [InlineData("ConnectionStrings:Gateway", "Host=db.example.nl;Username=gateway;Password=s3cret-too", "ConnectionStrings:Gateway")]
    [InlineData("ConnectionStrings:Gateway", "Host=db.example.nl;Username=gateway;Password=s3cret-too;SSL Mode=Require", "ConnectionStrings:Gateway")]
    [InlineData("ConnectionStrings:Gateway", "Host=127.0.0.1,db.example.nl;Username=gateway;Password=s3cret-too", "ConnectionStrings:Gateway")]
    [InlineData("RabbitMq:Nodes:0", "broker-2.example.nl:port", "RabbitMq:Nodes")]
    [InlineData("RabbitMq:Nodes:0", "broker-2.example.nl:0", "RabbitMq:Nodes")]
    [InlineData("RabbitMq:Nodes:0", "amqps://broker-2.example.nl", "RabbitMq:Nodes")]
    [InlineData("RabbitMq:Nodes:0", "broker-2.example.nl:5671:x", "RabbitMq:Nodes")]
    [InlineData("RabbitMq:Nodes:0", "[fd00::3", "RabbitMq:Nodes")]
    [InlineData("RabbitMq:Nodes:0", "[broker-2]:5671", "RabbitMq:Nodes")]
    public void InEveryEnvironment_ARemoteServiceWithoutVerifiedTls_IsRefusedNamingTheKey(string key, string value, string named)
    {
        foreach (var development in new[] { false, true })
        {
            var refusal = Assert.Single(RefusalsWith(development, (key, value)));
            Assert.Contains(named, refusal, StringComparison.Ordinal);
            Assert.DoesNotContain("s3cret", refusal, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("RabbitMq:Password", "gateway-local", "RabbitMq:Password")]
    [InlineData("RabbitMq:Password", "guest", "RabbitMq:Password")]
    [InlineData("ConnectionStrings:Gateway", "Host=db.example.nl;Username=gateway;Password=gateway-local;SSL Mode=VerifyFull", "ConnectionStrings:Gateway")]
    [InlineData("Quarantine:Republisher:Password", "gateway-local", "Quarantine:Republisher:Password")]
    [InlineData("Recipients:Duo:BaseUrl", "http://duo.example.nl/api", "Recipients:Duo:BaseUrl")]
    [InlineData("Recipients:leerplicht:OAuth:TokenUrl", "http://login.example.nl/token", "Recipients:leerplicht:OAuth:TokenUrl")]
    public void OutsideDevelopment_ADevelopmentPasswordOrPlainHttp_IsRefusedNamingTheKey(string key, string value, string named)
    {
        var refusal = Assert.Single(RefusalsWith(development: false, (key, value)));
        Assert.StartsWith(named, refusal, StringComparison.Ordinal);
        Assert.DoesNotContain("gateway-local", refusal, StringComparison.Ordinal);
        Assert.Empty(RefusalsWith(development: true, (key, value)));
    }

    [Theory]
    [InlineData("RabbitMq:Host", "127.0.0.1")]
    [InlineData("RabbitMq:Host", "localhost")]
    [InlineData("RabbitMq:Host", "::1")]
    [InlineData("ConnectionStrings:Gateway", "Host=127.0.0.1;Username=gateway;Password=s3cret-too")]
    [InlineData("ConnectionStrings:Gateway", "Host=/var/run/postgresql;Username=gateway;Password=s3cret-too")]
    [InlineData("ConnectionStrings:Gateway", "Host=::1;Username=gateway;Password=s3cret-too")]
    [InlineData("ConnectionStrings:Gateway", "Host=[::1]:5442;Username=gateway;Password=s3cret-too")]
    [InlineData("ConnectionStrings:Gateway", "Host=localhost:5442,127.0.0.1;Username=gateway;Password=s3cret-too")]
    [InlineData("Recipients:Duo:BaseUrl", "http://127.0.0.1:5080/recipients/duo")]
    [InlineData("Recipients:Duo:BaseUrl", "http://localhost:5080/recipients/duo")]
    public void Loopback_NeedsNoTls(string key, string value)
    {
        var changes = key == "RabbitMq:Host" ? new[] { (key, (string?)value), ("RabbitMq:Tls:Enabled", "false") } : [(key, value)];
        Assert.Empty(RefusalsWith(development: false, changes));
    }

    [Fact]
    public void ABrokerClusterOnLoopback_NeedsNoTls_ButOneRemoteNodeWithoutItIsRefused()
    {
        Assert.Empty(RefusalsWith(development: false, ("RabbitMq:Host", "127.0.0.1"), ("RabbitMq:Tls:Enabled", "false"), ("RabbitMq:Nodes:0", "127.0.0.1:5692"), ("RabbitMq:Nodes:1", "localhost")));
        var refusal = Assert.Single(RefusalsWith(development: false, ("RabbitMq:Host", "127.0.0.1"), ("RabbitMq:Tls:Enabled", "false"), ("RabbitMq:Nodes:0", "127.0.0.1:5692"), ("RabbitMq:Nodes:1", "broker-3.example.nl")));
        Assert.Contains("'broker-3.example.nl'", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void TheBrokerClusterNodes_EachWithItsPortAndItsOwnServerName()
    {
        var broker = new RabbitMqOptions
        {
            Host = "broker-1.example.nl", Nodes = ["broker-2.example.nl", "broker-3.example.nl:5681", "[fd00::3]:5682", "fd00::4"], Password = "x", Tls = new() { Enabled = true },
        };
        Assert.Equal([("broker-1.example.nl", 5671), ("broker-2.example.nl", 5671), ("broker-3.example.nl", 5681), ("fd00::3", 5682), ("fd00::4", 5671)], broker.Brokers());
        Assert.Equal("amqps://broker-1.example.nl:5671,broker-2.example.nl:5671,broker-3.example.nl:5681,[fd00::3]:5682,[fd00::4]:5671/integration-gateway", broker.Address);
        var endpoints = Gateway.Intake.RabbitMqConnections.Endpoints(broker);
        Assert.Equal(["broker-1.example.nl", "broker-2.example.nl", "broker-3.example.nl", "fd00::3", "fd00::4"], endpoints.Select(e => e.Ssl.ServerName));
        Assert.All(endpoints, e => Assert.True(e.Ssl.Enabled));
        Assert.Equal(["x.example.nl", "x.example.nl"], Gateway.Intake.RabbitMqConnections.Endpoints(new RabbitMqOptions
        {
            Host = "broker-1", Nodes = ["broker-2"], Password = "x", Tls = new() { Enabled = true, ServerName = "x.example.nl" },
        }).Select(e => e.Ssl.ServerName));
    }

    [Fact]
    public void EveryRefusal_IsReported_NotOnlyTheFirst()
    {
        var refusals = RefusalsWith(development: false, ("RabbitMq:Tls:Enabled", "false"), ("RabbitMq:Password", "guest"), ("Recipients:Duo:BaseUrl", "http://duo.example.nl/"));
        Assert.Equal(3, refusals.Count);
    }

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("LOCALHOST.", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.10", true)]
    [InlineData("[::1]", true)]
    [InlineData("10.0.0.1", false)]
    [InlineData("localhost.example.nl", false)]
    [InlineData("127.0.0.1.nip.io", false)]
    [InlineData("", false)]
    public void Loopback_IsALiteralAddressOrLocalhost_NoNameIsResolved(string host, bool loopback) => Assert.Equal(loopback, Loopback.Is(host));
}
