using System.Text;
using IntegrationGateway.Adapters;
using IntegrationGateway.AgencySimulator;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace IntegrationGateway.IntegrationTests;

/// <summary>No secret the gateway holds reaches its logs, at any level, on good paths and bad ones.</summary>
public sealed class SecretsInLogsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task NoSecretValue_AppearsInTheLogs_AtTraceLevel_ThroughRetriesRefusalsRenewalsAndQuarantine()
    {
        var client = new OAuthClient("ggd");
        await using var bed = await TestBed.StartAsync(client.SimulatorSettings);
        var logs = new CapturedLogs();
        var settings = new Dictionary<string, string?>(TestServices.FastDelivery)
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
            ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Trace",
            ["Logging:LogLevel:RabbitMQ.Client"] = "Trace",
        };
        client.AddTo(settings, bed);
        await using var gateway = await bed.StartGatewayInProcessAsync(settings, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
        });
        var generator = new SampleEventGenerator(707, TimeProvider.System);

        // Good deliveries, transient failures with retries and parking, a 401 and a token renewal, a 410, a quarantine.
        bed.SimulatorBehaviour.Set("leerplicht", new Misbehaviour(503, 1, false, TimeSpan.Zero, null, Times: 6));
        await bed.PublishAsync(Enumerable.Range(0, 5).Select(_ => (StudentEnrolled)generator.Next(nameof(StudentEnrolled))).ToList());
        await bed.WaitForReceiptsAsync("ggd", 5, TimeSpan.FromSeconds(30));
        bed.Simulator.Services.GetRequiredService<OAuthServer>().RevokeAll();
        bed.SimulatorBehaviour.Set("duo", new Misbehaviour(410, null, false, TimeSpan.Zero, null, Times: 1));
        await bed.PublishAsync(Enumerable.Range(0, 5).Select(_ => (StudentEnrolled)generator.Next(nameof(StudentEnrolled))).ToList());
        await bed.WaitForReceiptsAsync("ggd", 10, TimeSpan.FromSeconds(30));
        await bed.WaitForReceiptsAsync("leerplicht", 10, TimeSpan.FromSeconds(30));
        await using (var connection = await TestBed.ConnectAsPublisherAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.BasicPublishAsync(bed.QueueName, "", mandatory: true, new BasicProperties { UserId = "school-003-magister", Type = "AbsenceReported" }, Encoding.UTF8.GetBytes("{not json"));
        }

        await Task.Delay(TimeSpan.FromSeconds(1));

        string[] secrets =
        [
            .. TestServices.SigningSecrets.Values,
            .. TestServices.SigningSecrets.Values.Select(s => s["whsec_".Length..]),
            TestServices.SealingKey,
            client.Secret,
            TestServices.RabbitPassword,
            new Npgsql.NpgsqlConnectionStringBuilder(TestServices.DatabaseConnectionString).Password!,
        ];
        var lines = logs.Lines.ToList();
        var leaks = lines.Where(l => secrets.Any(s => l.Contains(s, StringComparison.Ordinal))).ToList();
        output.WriteLine($"{lines.Count} log lines at every level (trace {lines.Count(l => l.StartsWith("Trace", StringComparison.Ordinal))}, debug {lines.Count(l => l.StartsWith("Debug", StringComparison.Ordinal))}, " +
                         $"warning {lines.Count(l => l.StartsWith("Warning", StringComparison.Ordinal))}, critical {lines.Count(l => l.StartsWith("Critical", StringComparison.Ordinal))}) " +
                         $"scanned for {secrets.Length} secret values: {leaks.Count} leak(s)");

        Assert.Empty(leaks);
        Assert.Contains(lines, l => l.StartsWith("Critical", StringComparison.Ordinal)); // the 410 alert: the scan saw the bad paths
        Assert.Contains(lines, l => l.Contains("Quarantined a message", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Trace", StringComparison.Ordinal) && l.Contains("System.Net.Http", StringComparison.Ordinal)); // HTTP logging was on
    }
}
