using IntegrationGateway.Adapters;

namespace IntegrationGateway.Tests;

public class DeliveryResultTests
{
    [Theory]
    [InlineData(200, DeliveryStatus.Delivered)]
    [InlineData(201, DeliveryStatus.Delivered)]
    [InlineData(408, DeliveryStatus.Transient)]
    [InlineData(429, DeliveryStatus.Transient)]
    [InlineData(500, DeliveryStatus.Transient)]
    [InlineData(503, DeliveryStatus.Transient)]
    [InlineData(400, DeliveryStatus.Rejected)]
    [InlineData(403, DeliveryStatus.Rejected)]
    [InlineData(410, DeliveryStatus.Gone)]
    public void FromStatusCode_MapsToRetryableOrNot(int statusCode, DeliveryStatus expected) =>
        Assert.Equal(expected, DeliveryResult.FromStatusCode(statusCode, null).Status);
}
