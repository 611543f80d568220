using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Health;
using IntegrationGateway.Gateway.Hosting;
using MassTransit;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Gateway.Intake;

public static class IntakeRegistration
{
    /// <summary>
    /// MassTransit over RabbitMQ with one durable quorum intake queue. A message is acknowledged only after its
    /// consumer returns, so a message in flight at shutdown is either finished or handed back to the broker.
    /// </summary>
    public static IServiceCollection AddGatewayIntake(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RabbitMqOptions>().Bind(configuration.GetSection(RabbitMqOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<IntakeOptions>().Bind(configuration.GetSection(IntakeOptions.Section)).ValidateDataAnnotations().ValidateOnStart();

        // The data-subject events wait in a queue of their own (see SubjectRightsHolding); registered before the bus so
        // that queue exists before anything is consumed.
        services.AddHostedService<SubjectRightsHolding>();

        // One consumer per other event contract, all on the one intake queue; each hands its event to the same pipeline.
        var consumers = EventCatalogue.Default.Types.Values
            .Except(SubjectRightsHolding.HeldEvents)
            .Select(t => typeof(EventConsumer<>).MakeGenericType(t))
            .ToList();
        services.AddMassTransit(bus =>
        {
            foreach (var consumer in consumers)
            {
                bus.AddConsumer(consumer);
            }

            bus.ConfigureHealthCheckOptions(health =>
            {
                health.Name = "rabbitmq";
                health.Tags.Add(HealthEndpoints.ReadyTag);
            });

            bus.UsingRabbitMq((context, rabbit) =>
            {
                var broker = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                var intake = context.GetRequiredService<IOptions<IntakeOptions>>().Value;
                rabbit.Host(broker.Host, (ushort)broker.Port, broker.VirtualHost, host =>
                {
                    host.Username(broker.Username);
                    host.Password(broker.Password);
                    host.ConnectionName("integration-gateway");
                });

                rabbit.ReceiveEndpoint(intake.QueueName, endpoint =>
                {
                    endpoint.SetQuorumQueue();
                    endpoint.PrefetchCount = intake.PrefetchCount;
                    endpoint.ConcurrentMessageLimit = intake.ConcurrentMessageLimit;
                    // Fault<T> would carry the whole event, personal data included, to whoever listens.
                    endpoint.PublishFaults = false;
                    // Delivery failures are retried per transfer inside the pipeline; this covers only unexpected
                    // errors, and never a shutdown.
                    endpoint.UseMessageRetry(retry =>
                    {
                        retry.Ignore<OperationCanceledException>();
                        retry.Exponential(intake.RetryLimit, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(400));
                    });
                    foreach (var consumer in consumers)
                    {
                        endpoint.ConfigureConsumer(context, consumer);
                    }
                });
            });
        });

        services.AddOptions<MassTransitHostOptions>().Configure<IOptions<RabbitMqOptions>>((host, broker) =>
        {
            // Start only once the intake topology exists: publishers must never hit an exchange with no queue.
            host.WaitUntilStarted = true;
            host.StartTimeout = broker.Value.StartTimeout;
            host.StopTimeout = TimeSpan.FromSeconds(30);
            // Then the consumers' token is cancelled: a transfer still retrying gives up, and its message goes back
            // to the queue unacknowledged.
            host.ConsumerStopTimeout = TimeSpan.FromSeconds(10);
        });
        return services;
    }
}
