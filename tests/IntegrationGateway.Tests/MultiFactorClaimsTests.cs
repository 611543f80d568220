using IntegrationGateway.Gateway.Ops;

namespace IntegrationGateway.Tests;

/// <summary>When the provider's sign-in counts as multi-factor (RFC 8176 amr values, or a configured acr).</summary>
public sealed class MultiFactorClaimsTests
{
    [Theory]
    [InlineData("mfa", null, true)]
    [InlineData("pwd otp", null, true)]
    [InlineData("pwd hwk", null, true)]
    [InlineData("pwd fpt", null, true)]
    [InlineData("pwd", null, false)]
    [InlineData("otp", null, false)] // one factor, whatever it is
    [InlineData("pwd kba", null, false)] // two things the person knows: one factor
    [InlineData("otp otp", null, false)]
    [InlineData("", null, false)] // says nothing of how: not multi-factor
    [InlineData("pwd", "http://eidas.europa.eu/LoA/substantial", true)]
    [InlineData("pwd", "urn:other:low", false)]
    public void IsMultiFactor(string amr, string? acr, bool multiFactor)
    {
        var options = new OpsOpenIdConnectOptions { MfaAcrValues = ["http://eidas.europa.eu/LoA/substantial"] };
        Assert.Equal(multiFactor, options.IsMultiFactor(amr.Split(' ', StringSplitOptions.RemoveEmptyEntries), acr));
    }
}
