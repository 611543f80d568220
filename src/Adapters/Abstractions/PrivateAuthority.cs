using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace IntegrationGateway.Adapters;

/// <summary>
/// A server whose certificate comes from a certificate authority of its own (an agency's, or a deployment's for its
/// broker and database), trusted for that server alone rather than added to the machine's trust store.
/// </summary>
public static class PrivateAuthority
{
    /// <summary>The server's certificate chains to <paramref name="authority"/> and names the host asked for (no other error).</summary>
    public static bool Vouches(X509Certificate2 authority, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
