using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests;

/// <summary>A recipient on its own PKI that accepts transfers only over mutual TLS.</summary>
public sealed class MutualTlsTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ig-mtls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task MutualTlsRecipient_GetsTransfersWithTheGatewaysClientCertificate_OverItsPrivateCa()
    {
        var (caFile, serverFile, clientFile, password) = IssueCertificates();
        await using var bed = await TestBed.StartAsync(
            [
                new("Tls:CertificateFile", serverFile),
                new("Tls:CertificatePassword", password),
                new("Tls:ClientAuthorityFile", caFile),
                new("Recipients:vdab:RequireClientCertificate", "true"),
            ],
            "http://127.0.0.1:0;https://127.0.0.1:0");
        var https = new Uri(bed.Simulator.Urls.First(u => u.StartsWith("https:", StringComparison.Ordinal)).TrimEnd('/') + "/");
        await using var gateway = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?>
        {
            ["Recipients:vdab:BaseUrl"] = new Uri(https, "recipients/vdab").ToString(),
            ["Recipients:vdab:ClientCertificateFile"] = clientFile,
            ["Recipients:vdab:ClientCertificatePassword"] = password,
            ["Recipients:vdab:ServerCertificateAuthorityFile"] = caFile,
        });
        var generator = new SampleEventGenerator(808, TimeProvider.System);
        var events = Enumerable.Range(0, 30).Select(_ => (IntegrationIntakeCompleted)generator.Next(nameof(IntegrationIntakeCompleted))).Where(e => e.Jurisdiction == "BE-VLG").ToList();
        Assert.NotEmpty(events);

        await bed.PublishAsync(events);
        var receipts = await bed.WaitForReceiptsAsync("vdab", events.Count, TimeSpan.FromSeconds(60));

        // Without the certificate the agency does not even finish the handshake.
        using var plain = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        });
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => plain.PostAsync(new Uri(https, "recipients/vdab/transfers"), new StringContent("{}")));

        output.WriteLine($"vdab over mutual TLS: {receipts.Count} of {events.Count} received, client certificate {receipts.Select(r => r.ClientCertificate).Distinct().Single()}; without one: {refused.HttpRequestError}");
        Assert.Equal(events.Count, receipts.Count);
        Assert.All(receipts, r => Assert.Equal("CN=integration-gateway-client", r.ClientCertificate));
    }

    /// <summary>A CA, a server certificate for 127.0.0.1 and a client certificate, both issued by it; valid for a day.</summary>
    (string Ca, string Server, string Client, string Password) IssueCertificates()
    {
        var now = TimeProvider.System.GetUtcNow();
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Test Agency CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));

        string Issue(string subject, string usage, Action<CertificateRequest>? more = null)
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
            more?.Invoke(request);
            using var issued = request.Create(ca, now.AddHours(-1), now.AddHours(23), RandomNumberGenerator.GetBytes(8));
            using var withKey = issued.CopyWithPrivateKey(key);
            var file = Path.Combine(_dir, subject[3..] + ".pfx");
            File.WriteAllBytes(file, withKey.Export(X509ContentType.Pkcs12, password));
            return file;
        }

        var server = Issue("CN=127.0.0.1", "1.3.6.1.5.5.7.3.1", request =>
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
        });
        var client = Issue("CN=integration-gateway-client", "1.3.6.1.5.5.7.3.2");
        var caFile = Path.Combine(_dir, "ca.cer");
        File.WriteAllBytes(caFile, ca.Export(X509ContentType.Cert));
        return (caFile, server, client, password);
    }
}
