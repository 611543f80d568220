using System.Text;
using IntegrationGateway.Gateway.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace IntegrationGateway.Tests;

/// <summary><c>/health/ready</c> answers anonymous callers: which check failed, never the server's address or the driver's error text.</summary>
public sealed class HealthResponseTests
{
    [Fact]
    public async Task Ready_NamesTheFailingCheck_WithoutItsDescription()
    {
        var report = new HealthReport(new Dictionary<string, HealthReportEntry>
        {
            ["rabbitmq"] = new(HealthStatus.Healthy, "RabbitMQ at amqp://10.1.2.3:5672 connected", TimeSpan.FromMilliseconds(1), null, null),
            ["postgres"] = new(HealthStatus.Unhealthy, "PostgreSQL at 10.1.2.4:5432/integration_gateway unreachable: 28P01: password authentication failed for user \"gateway\"", TimeSpan.FromMilliseconds(2), null, null),
        }, TimeSpan.FromMilliseconds(3));
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;

        await HealthEndpoints.WriteAsync(context, report);

        var json = Encoding.UTF8.GetString(body.ToArray());
        Assert.Contains("\"name\":\"postgres\",\"status\":\"Unhealthy\"", json);
        Assert.Contains("\"name\":\"rabbitmq\",\"status\":\"Healthy\"", json);
        foreach (var secret in new[] { "10.1.2.3", "10.1.2.4", "integration_gateway", "password", "28P01" })
        {
            Assert.DoesNotContain(secret, json);
        }
    }
}
