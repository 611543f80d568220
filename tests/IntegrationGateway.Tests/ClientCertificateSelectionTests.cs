using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IntegrationGateway.Adapters;

namespace IntegrationGateway.Tests;

/// <summary>A recipient's client certificate goes to that recipient's host only.</summary>
public sealed class ClientCertificateSelectionTests
{
    [Theory]
    [InlineData("duo.example.nl", true)]
    [InlineData("DUO.example.nl", true)]
    [InlineData("duo.example.nl.", true)]
    [InlineData("elsewhere.example", false)]
    [InlineData("duo.example.nl.elsewhere.example", false)]
    [InlineData("", false)]
    public void OnlyTo_OffersTheCertificateToTheRecipientsHostAlone(string targetHost, bool offered)
    {
        using var key = ECDsa.Create();
        using var certificate = new CertificateRequest("CN=school-003", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddYears(100));

        var chosen = RecipientHttpClient.OnlyTo("duo.example.nl", certificate)(this, targetHost, new X509CertificateCollection(), null, []);

        Assert.Equal(offered, chosen is not null);
    }
}
