using System.Text.Json;
using IntegrationGateway.Adapters;

namespace IntegrationGateway.Tests;

/// <summary>A token endpoint's <c>expires_in</c> is believed only within bounds: neither a token per request nor one kept for years.</summary>
public sealed class OAuthTokenLifetimeTests
{
    [Theory]
    [InlineData("""{"expires_in": 3600}""", 3600)]
    [InlineData("""{"expires_in": "900"}""", 900)]
    [InlineData("""{}""", 300)]
    [InlineData("""{"expires_in": "soon"}""", 300)]
    [InlineData("""{"expires_in": 4}""", 4)]
    [InlineData("""{"expires_in": 0}""", 1)]
    [InlineData("""{"expires_in": -60}""", 1)]
    [InlineData("""{"expires_in": "-60"}""", 1)]
    [InlineData("""{"expires_in": 2147483647}""", 86_400)]
    [InlineData("""{"expires_in": 99999999999999}""", 86_400)]
    [InlineData("""{"expires_in": 1e300}""", 86_400)]
    [InlineData("""{"expires_in": 3600.0}""", 3600)]
    [InlineData("""{"expires_in": " 900 "}""", 900)]
    public void LifetimeOf_IsExpiresIn_HeldBetweenASecondAndADay(string response, int seconds)
    {
        using var json = JsonDocument.Parse(response);

        Assert.Equal(TimeSpan.FromSeconds(seconds), OAuthTokenCache.LifetimeOf(json.RootElement));
    }
}
