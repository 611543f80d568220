using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests;

/// <summary>A gateway that cannot reach its broker says where it looked, and does not pretend to run.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task Start_BrokerUnreachable_ExitsWithFailureNamingTheBrokerAddress()
    {
        await using var bed = await TestBed.StartAsync();
        var settings = bed.GatewaySettings();
        var closedPort = TestServices.FreePort();
        settings["RabbitMq:Port"] = closedPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["RabbitMq:StartTimeout"] = "00:00:05";

        var gateway = bed.StartGatewayProcess(settings);
        var exitCode = await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exitCode);
        Assert.Contains($"{(TestServices.BrokerTls.Enabled ? "amqps" : "amqp")}://127.0.0.1:{closedPort}/{TestServices.VirtualHost}", gateway.Output);
        Assert.DoesNotContain(TestServices.RabbitPassword, gateway.Output);
    }

    [Fact]
    public async Task Start_DatabaseUnreachable_ExitsWithFailureNamingTheDatabase()
    {
        // The gateway parks transfers in PostgreSQL before it acknowledges a message: without it, it does not consume.
        await using var bed = await TestBed.StartAsync();
        var settings = bed.GatewaySettings();
        var closedPort = TestServices.FreePort();
        var database = new Npgsql.NpgsqlConnectionStringBuilder(TestServices.DatabaseConnectionString) { Port = closedPort, Database = "integration_gateway", Timeout = 2 };
        settings["ConnectionStrings:Gateway"] = database.ConnectionString;

        var gateway = bed.StartGatewayProcess(settings);
        var exitCode = await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exitCode);
        Assert.Contains($"127.0.0.1:{closedPort}/integration_gateway", gateway.Output);
        Assert.DoesNotContain(database.Password!, gateway.Output);
    }
}
