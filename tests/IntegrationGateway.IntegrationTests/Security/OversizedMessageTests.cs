using System.Text;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace IntegrationGateway.IntegrationTests.Security;

/// <summary>
/// A message too big for the intake is quarantined (rule <c>size</c>) without harm; one too big for any intake (over
/// 16 MiB) is refused by the broker itself, so the publisher keeps it and the intake never holds it. Either way the
/// next event goes through.
/// </summary>
[Trait("Tier", "Security")]
public sealed class OversizedMessageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AMessageOverTheIntakesLimit_IsQuarantined_OneOverTheBrokersLimit_IsRefusedAtPublish_AndTheIntakeGoesOn()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var counters = gateway.Services.GetRequiredService<Gateway.Intake.IntakeCounters>();
        var properties = new BasicProperties { UserId = "school-003-magister", Persistent = true, Type = "AbsenceReported", MessageId = Guid.NewGuid().ToString() };

        await using (var connection = await TestBed.ConnectAsPublisherAsync())
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            await channel.BasicPublishAsync(bed.QueueName, "", mandatory: true, properties, Encoding.UTF8.GetBytes($"{{\"padding\":\"{new string('x', 1024 * 1024)}\"}}"));
        }

        await TestBed.WaitUntilAsync("the 1 MiB message quarantined", () => counters.Quarantined >= 1, TimeSpan.FromSeconds(30));

        Exception? refused = null;
        await using (var connection = await TestBed.ConnectAsPublisherAsync())
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            try
            {
                await channel.BasicPublishAsync(bed.QueueName, "", mandatory: true, properties, new byte[17 * 1024 * 1024]);
                await channel.BasicPublishAsync(bed.QueueName, "", mandatory: true, properties, "{}"u8.ToArray()); // sees the channel the broker closed
            }
            catch (Exception ex) when (ex is RabbitMQ.Client.Exceptions.RabbitMQClientException or RabbitMQ.Client.Exceptions.OperationInterruptedException or IOException)
            {
                refused = ex;
            }
        }

        output.WriteLine($"17 MiB: {refused?.GetType().Name}: {refused?.Message}");
        Assert.NotNull(refused);
        Assert.Contains("max size", refused!.ToString(), StringComparison.OrdinalIgnoreCase);

        var control = new SampleEventGenerator(1804, TimeProvider.System).NextAbsenceReported();
        await bed.PublishAsync([control]);
        Assert.Single(await bed.WaitForReceiptsAsync("duo", 1, TimeSpan.FromSeconds(30)));
        Assert.Equal(1, counters.Quarantined); // the 17 MiB one never reached the intake
        output.WriteLine("attack: a 1 MiB message: quarantined, the intake goes on\nattack: a 17 MiB message: refused by the broker at publish");
    }
}
