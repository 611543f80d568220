using IntegrationGateway.Gateway.Health;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Sealing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Intake;

public static class IntakeRegistration
{
    /// <summary>The intake: reader, handler (broker-free), counters, the RabbitMQ transport, and the <c>rabbitmq</c> readiness check.</summary>
    public static IServiceCollection AddGatewayIntake(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RabbitMqOptions>().Bind(configuration.GetSection(RabbitMqOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<IntakeOptions>().Bind(configuration.GetSection(IntakeOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new EventValidator(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<IntakeOptions>>().Value.MaxMessageBytes));
        services.AddSingleton<IntakeReader>();
        services.AddSingleton<IntakeCounters>();
        services.AddSingleton<EventProcessor>();
        services.AddSingleton<IntakeHandler>();
        services.AddSingleton<IntakeTransport>();
        services.AddHostedService(sp => sp.GetRequiredService<IntakeTransport>());
        services.AddHealthChecks().AddCheck<RabbitMqHealthCheck>("rabbitmq", tags: [HealthEndpoints.ReadyTag]);
        return services;
    }
}

/// <summary>Ready while the intake is connected and consuming; the description names the broker, never the password.</summary>
internal sealed class RabbitMqHealthCheck(IntakeTransport consumer, IOptions<RabbitMqOptions> broker) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(consumer.IsConsuming
            ? HealthCheckResult.Healthy($"RabbitMQ at {broker.Value.Address}: consuming")
            : HealthCheckResult.Unhealthy($"RabbitMQ at {broker.Value.Address}: not connected or not consuming"));
}
