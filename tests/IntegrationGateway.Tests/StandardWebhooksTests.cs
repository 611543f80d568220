using System.Net;
using IntegrationGateway.Adapters;

namespace IntegrationGateway.Tests;

public class StandardWebhooksTests
{
    [Fact]
    public void Sign_ThePublishedTestVector_IsReproducedExactly()
    {
        // The Standard Webhooks reference vector: a receiver's library must accept what we send.
        var key = StandardWebhooks.DecodeSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

        var signature = StandardWebhooks.Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}"""u8);

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    [Theory]
    [InlineData("")]
    [InlineData("whsec_not base64!")]
    [InlineData("whsec_c2hvcnQ=")]
    public void DecodeSecret_Malformed_SaysSoWithoutRepeatingIt(string secret)
    {
        var error = Assert.Throws<FormatException>(() => StandardWebhooks.DecodeSecret(secret));

        Assert.DoesNotContain("c2hvcnQ", error.Message);
        Assert.Contains("whsec_", error.Message);
    }

    [Fact]
    public async Task SigningHandler_SignsEachAttemptWithTheIdempotencyKeyAsIdAndAFreshTimestamp()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        var secret = StandardWebhooks.NewSecret();
        var key = StandardWebhooks.DecodeSecret(secret);
        var seen = new List<HttpRequestMessage>();
        using var client = new HttpClient(new StandardWebhooksSigningHandler(key, time) { InnerHandler = new Recording(seen) }) { BaseAddress = new Uri("http://agency.test/") };

        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "transfers") { Content = new ByteArrayContent("""{"a":1}"""u8.ToArray()) };
            request.Headers.Add(HttpDelivery.IdempotencyKeyHeader, "event-1:agreement-1");
            await client.SendAsync(request);
            time.Advance(TimeSpan.FromSeconds(7));
        }

        Assert.Equal(2, seen.Count);
        Assert.All(seen, r => Assert.Equal("event-1:agreement-1", r.Headers.GetValues("webhook-id").Single()));
        Assert.Equal(["1800000000", "1800000007"], seen.Select(r => r.Headers.GetValues("webhook-timestamp").Single()));
        Assert.Equal(StandardWebhooks.Sign(key, "event-1:agreement-1", 1_800_000_007, """{"a":1}"""u8), seen[1].Headers.GetValues("webhook-signature").Single());
        Assert.NotEqual(seen[0].Headers.GetValues("webhook-signature").Single(), seen[1].Headers.GetValues("webhook-signature").Single());
    }

    sealed class Recording(List<HttpRequestMessage> seen) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            seen.Add(request);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.Created));
        }
    }
}
