using IntegrationGateway.Tests;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace IntegrationGateway.IntegrationTests.Infrastructure;

/// <summary>
/// The controllers' own systems as MassTransit 8.5 publishers, set up as the publishing guide says: each controller
/// its own bus, connected as its own broker user, publisher confirms on, usage telemetry off, and every publish
/// carrying <c>user_id</c> (the broker checks it is the connection's user; the intake requires it). A message goes out
/// on the bus of the controller its <c>source.institutionId</c> names, or of the broker user given.
/// </summary>
internal sealed class ControllerBuses : IAsyncDisposable
{
    readonly Dictionary<string, (ServiceProvider Services, IBusControl Bus)> _buses = new(StringComparer.Ordinal);
    readonly SemaphoreSlim _starting = new(1, 1);

    /// <summary>Publishes the message as its own type (not <typeparamref name="T"/>, which may be <c>object</c>).</summary>
    public Task Publish<T>(T message)
        where T : class => Publish(message, message.GetType());

    public Task Publish(object message, Type type) => Publish(message, type, null);

    public Task Publish<T>(T message, Action<PublishContext> configure)
        where T : class => Publish(message, message.GetType(), configure);

    /// <summary>Publishes as <paramref name="user"/> whatever the message says: to see the intake refuse another controller's event.</summary>
    public async Task PublishAs(string user, object message, Type type) => await (await BusOf(user)).Publish(message, type);

    async Task Publish(object message, Type type, Action<PublishContext>? configure)
    {
        var bus = await BusOf(PublisherOf(message));
        await (configure is null ? bus.Publish(message, type) : bus.Publish(message, type, configure));
    }

    /// <summary>The broker user of the shipped controller the message's source names.</summary>
    static string PublisherOf(object message)
    {
        var source = message.GetType().GetProperty("Source")?.GetValue(message) as Contracts.EventSource
            ?? throw new ArgumentException($"a {message.GetType().Name} names no source");
        return TestAgreements.Shipped.ByInstitution(source.InstitutionId)?.BrokerUsers[0]
            ?? throw new ArgumentException($"no shipped controller is known by institution id {source.InstitutionId}; use PublishAs");
    }

    async Task<IBusControl> BusOf(string user)
    {
        await _starting.WaitAsync();
        try
        {
            if (_buses.TryGetValue(user, out var known))
            {
                return known.Bus;
            }

            var services = new ServiceCollection().AddMassTransit(bus =>
            {
                bus.DisableUsageTelemetry();
                bus.UsingRabbitMq((_, rabbit) =>
                {
                    rabbit.Host(TestServices.Publisher(user), host => host.PublisherConfirmation = true);
                    // Its own contract exchanges (<user>.IntegrationGateway.Contracts:<Type>, which the gateway binds): the
                    // only exchanges a publisher may declare, as MassTransit does before it publishes.
                    rabbit.MessageTopology.SetEntityNameFormatter(new PrefixEntityNameFormatter(rabbit.MessageTopology.EntityNameFormatter, user + "."));
                    // What the guide tells every MassTransit publisher: user_id on each message (RabbitMQ refuses any
                    // other than the connection's user, so the intake can trust it), and unroutable is an error.
                    rabbit.ConfigurePublish(publish => publish.UseExecute(context =>
                    {
                        if (context.TryGetPayload<RabbitMqSendContext>(out var send))
                        {
                            send.BasicProperties.UserId = user;
                            send.Mandatory = true;
                        }
                    }));
                });
            }).BuildServiceProvider();
            var started = services.GetRequiredService<IBusControl>();
            await started.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
            _buses[user] = (services, started);
            return started;
        }
        finally
        {
            _starting.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (services, bus) in _buses.Values)
        {
            await bus.StopAsync();
            await services.DisposeAsync();
        }
    }
}
