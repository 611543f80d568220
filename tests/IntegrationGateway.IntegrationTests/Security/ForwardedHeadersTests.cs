using System.Net;
using IntegrationGateway.IntegrationTests.Infrastructure;

namespace IntegrationGateway.IntegrationTests.Security;

/// <summary>
/// Behind a TLS-terminating proxy (<c>Ops:ForwardedBy</c>) sign-in throttling counts each client and cookies are
/// Secure; without it, a client's own <c>X-Forwarded-*</c> headers change nothing: it cannot dodge the throttle by
/// naming another address.
/// </summary>
[Trait("Tier", "Security")]
public sealed class ForwardedHeadersTests(ITestOutputHelper output)
{
    static async Task<(HttpStatusCode Status, string? Cookie)> GuessAsync(Uri gateway, string forwardedFor, string user = "admin", string password = "wrong")
    {
        using var http = await OpsSignIn.ClientAsync(gateway, null);
        http.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        http.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
        using var response = await OpsSignIn.PostFormAsync(http, "/ops/signin", new() { ["user"] = user, ["password"] = password });
        return (response.StatusCode, response.Headers.TryGetValues("Set-Cookie", out var cookies) ? string.Join("; ", cookies.Where(c => c.StartsWith("ig-ops-pending=", StringComparison.Ordinal))) : null);
    }

    [Fact]
    public async Task BehindTheNamedProxy_EachClientIsThrottledApart_AndCookiesAreSecure_ElseForwardedHeadersChangeNothing()
    {
        await using var bed = await TestBed.StartAsync();
        var limit = new Dictionary<string, string?> { ["Ops:SignInAttemptsPerMinute"] = "2" };

        await using (var behindProxy = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?>(limit) { ["Ops:ForwardedBy:0"] = "127.0.0.1" }))
        {
            var url = new Uri(behindProxy.Urls.First());
            var a = new[] { await GuessAsync(url, "192.0.2.1"), await GuessAsync(url, "192.0.2.1"), await GuessAsync(url, "192.0.2.1") };
            var b = await GuessAsync(url, "192.0.2.2");
            var signIn = await GuessAsync(url, "192.0.2.3", "operator", OpsSignIn.Password);
            output.WriteLine($"behind the proxy: client A {string.Join(", ", a.Select(x => (int)x.Status))}, client B {(int)b.Status}; a sign-in's cookie: {signIn.Cookie}");
            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], a.Select(x => x.Status));
            Assert.Equal(HttpStatusCode.OK, b.Status); // another client is not held up by A's guesses
            Assert.Contains("secure", signIn.Cookie ?? "", StringComparison.OrdinalIgnoreCase);
        }

        await using (var direct = await bed.StartGatewayInProcessAsync(limit))
        {
            var url = new Uri(direct.Urls.First());
            var spoofed = new[] { await GuessAsync(url, "198.51.100.1"), await GuessAsync(url, "198.51.100.2"), await GuessAsync(url, "198.51.100.3") };
            output.WriteLine($"no proxy named: a client naming a new address each time: {string.Join(", ", spoofed.Select(x => (int)x.Status))}");
            Assert.Equal(HttpStatusCode.TooManyRequests, spoofed[2].Status);
        }

        output.WriteLine("attack: dodging the sign-in throttle with X-Forwarded-For: refused");
    }
}
