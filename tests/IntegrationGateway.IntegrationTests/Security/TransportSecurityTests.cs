using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Npgsql;
using RabbitMQ.Client.Exceptions;

namespace IntegrationGateway.IntegrationTests.Security;

/// <summary>
/// The broker and the database are reached over TLS that checks the server's certificate and name (deploy/local
/// runs both with a CA of the checkout's own); a server the CA did not vouch for, or a plain connection to another
/// host, is refused.
/// </summary>
[Trait("Tier", "Security")]
public sealed class TransportSecurityTests(ITestOutputHelper output) : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("ig-tls-").FullName;

    [Fact]
    public async Task TheIntegrationSuite_ReachesBrokerAndDatabase_OverVerifiedTls()
    {
        TestServices.RequireBroker();
        await TestServices.RequireDatabaseAsync();
        var broker = TestServices.Broker;
        Assert.True(broker.Tls is { Enabled: true, CaFile: not null }, "the tests' broker settings have no TLS: run them through deploy/local/test.sh, whose env.sh sets RabbitMq__Tls__*");
        await using (var connection = await RabbitMqConnections.OpenAsync(broker, "tls-check", CancellationToken.None))
        {
            Assert.True(connection.Endpoint.Ssl.Enabled);
            output.WriteLine($"RabbitMQ: {broker.Address}, TLS, CA {broker.Tls.CaFile}");
        }

        var database = new NpgsqlConnectionStringBuilder(TestServices.DatabaseConnectionString);
        Assert.Equal(SslMode.VerifyFull, database.SslMode);
        await using var data = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var ssl = data.CreateCommand("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
        await using var reader = await ssl.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        output.WriteLine($"PostgreSQL: {database.Host}:{database.Port}, SSL Mode={database.SslMode}, {reader.GetString(1)}");
        Assert.True(reader.GetBoolean(0));
    }

    [Fact]
    public async Task ABrokerCertificateFromAnotherAuthority_OrForAnotherName_IsRefused()
    {
        TestServices.RequireBroker();
        var broker = TestServices.Broker;
        var otherAuthority = new RabbitMqOptions
        {
            Host = broker.Host, Port = broker.Port, VirtualHost = broker.VirtualHost, Username = broker.Username, Password = broker.Password,
            Tls = new RabbitMqTlsOptions { Enabled = true, CaFile = AnotherAuthority() },
        };
        var otherName = new RabbitMqOptions
        {
            Host = broker.Host, Port = broker.Port, VirtualHost = broker.VirtualHost, Username = broker.Username, Password = broker.Password,
            Tls = new RabbitMqTlsOptions { Enabled = true, CaFile = broker.Tls.CaFile, ServerName = "broker.example.nl" },
        };

        foreach (var (attack, options) in new[] { ("a CA of its own", otherAuthority), ("another server name", otherName) })
        {
            var refused = await Assert.ThrowsAsync<BrokerUnreachableException>(() => RabbitMqConnections.OpenAsync(options, "tls-attack", CancellationToken.None));
            Assert.Contains("RemoteCertificateValidationCallback", refused.ToString(), StringComparison.Ordinal); // the certificate, not the password or the port
            output.WriteLine($"broker certificate checked against {attack}: refused ({refused.InnerException?.GetType().Name}: {refused.InnerException?.Message})");
            output.WriteLine($"attack: a broker whose certificate has {attack}: refused");
        }
    }

    [Fact]
    public async Task ADatabaseCertificateFromAnotherAuthority_IsRefused()
    {
        await TestServices.RequireDatabaseAsync();
        var connection = new NpgsqlConnectionStringBuilder(TestServices.DatabaseConnectionString) { RootCertificate = AnotherAuthority() };
        await using var database = NpgsqlDataSource.Create(connection.ConnectionString);
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () => await database.OpenConnectionAsync());
        output.WriteLine($"database certificate checked against a CA of its own: refused ({refused.GetType().Name}: {refused.Message})");
        Assert.True(refused is NpgsqlException or System.Security.Authentication.AuthenticationException, refused.ToString());
        Assert.Contains("SSL", refused.ToString(), StringComparison.Ordinal); // the handshake, not the password or the port
        output.WriteLine("attack: a database whose certificate comes from another CA: refused");
    }

    [Fact]
    public async Task AGatewayPointedAtARemoteBrokerWithoutTls_RefusesToStart_NamingRabbitMqTls_AndSoDoItsVerbs()
    {
        string[] remotePlain = ["--RabbitMq:Host", "192.0.2.10", "--RabbitMq:Port", "5672", "--RabbitMq:Tls:Enabled", "false", "--RabbitMq:Password", "not-a-real-one"];
        var run = await GatewayCommandLine.RunAsync(["run", .. remotePlain, "--ConnectionStrings:Gateway", TestServices.DatabaseConnectionString]);
        var topology = await GatewayCommandLine.RunAsync(["topology", "declare", .. remotePlain]);
        foreach (var (verb, result) in new[] { ("run", run), ("topology declare", topology) })
        {
            output.WriteLine($"{verb}: exit {result.Exit}: {result.Err.Trim()}");
            Assert.Equal(1, result.Exit);
            Assert.Contains("RabbitMq:Tls", result.Err, StringComparison.Ordinal);
            Assert.DoesNotContain("not-a-real-one", result.Err + result.Out, StringComparison.Ordinal);
            output.WriteLine($"attack: plain AMQP to a remote-looking broker ({verb}): refused");
        }
    }

    [Fact]
    public async Task AProductionStartWithDevelopmentSettings_IsRefused_NamingEachKey()
    {
        var result = await GatewayCommandLine.RunAsync(
            "run", "--environment", "Production",
            "--RabbitMq:Host", "127.0.0.1", "--RabbitMq:Password", "gateway-local",
            "--ConnectionStrings:Gateway", "Host=127.0.0.1;Username=gateway;Password=gateway-local",
            "--Recipients:Duo:BaseUrl", "http://duo.example.nl/api");
        output.WriteLine($"exit {result.Exit}: {result.Err.Trim()}");
        Assert.Equal(1, result.Exit);
        foreach (var key in new[] { "RabbitMq:Password", "ConnectionStrings:Gateway", "Recipients:Duo:BaseUrl" })
        {
            Assert.Contains(key, result.Err, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("gateway-local", result.Err, StringComparison.Ordinal);
        output.WriteLine("attack: a production start with development settings: refused");
    }

    /// <summary>The PEM file of a certificate authority that vouches for nobody here.</summary>
    string AnotherAuthority()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=somebody else's CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var authority = request.CreateSelfSigned(DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddYears(100));
        var file = Path.Combine(_folder, "other-ca.crt");
        File.WriteAllText(file, authority.ExportCertificatePem());
        return file;
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
