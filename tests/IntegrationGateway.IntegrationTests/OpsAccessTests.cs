using Microsoft.AspNetCore.Builder;
using System.Net;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Npgsql;

namespace IntegrationGateway.IntegrationTests;

/// <summary>
/// Every ops route × every role, and signed out, against the running gateway: the expected answer of each cell is
/// written out below, not derived from the code under test.
/// </summary>
public sealed class OpsAccessTests(ITestOutputHelper output)
{
    /// <summary>Signed out: a page sends the browser to sign in; anything else is 401.</summary>
    const string SignIn = "sign-in";
    const string Ok = "200";
    const string Done = "done"; // a form post that did its work and sent the browser on (303/302 to a page that is not sign-in)
    const string Forbidden = "403";
    const string Unauthorized = "401";

    /// <summary>The matrix: route → (signed out, operator, dpo, admin).</summary>
    static readonly (string Method, string Path, string SignedOut, string Operator, string Dpo, string Admin)[] Matrix =
    [
        ("GET", "/ops/transfers", SignIn, Ok, Forbidden, Ok),
        ("GET", "/ops/transfers?outcome=delivered&recipient=duo", SignIn, Ok, Forbidden, Ok),
        ("GET", "/ops/transfers/{transfer}", SignIn, Ok, Forbidden, Ok),
        ("GET", "/ops/parked", SignIn, Ok, Forbidden, Ok),
        ("GET", "/ops/recipients", SignIn, Ok, Forbidden, Ok),
        ("GET", "/ops/agreements", SignIn, Ok, Ok, Ok),
        ("GET", "/ops/subject", SignIn, Forbidden, Ok, Forbidden),
        ("POST", "/ops/subject", Unauthorized, Forbidden, Ok, Forbidden),
        ("GET", "/ops/audit", SignIn, Forbidden, Forbidden, Ok),
        ("GET", "/ops/summary", Unauthorized, Ok, Forbidden, Ok),
        ("POST", "/ops/parked/replay", Unauthorized, Forbidden, Forbidden, Done),
        ("POST", "/ops/recipients/route", Unauthorized, Forbidden, Forbidden, Done),
        ("GET", "/ops/signin", Ok, Ok, Ok, Ok),
    ];

    [Fact]
    public async Task EveryOpsRoute_ForEveryRoleAndSignedOut_AnswersAsTheMatrixSays()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync();
        var address = new Uri(gateway.Urls.First());
        var transfer = await AnyTransferAsync(bed);

        var clients = new Dictionary<string, HttpClient>
        {
            ["signed out"] = await OpsSignIn.ClientAsync(address, null),
            ["operator"] = await OpsSignIn.ClientAsync(address, "operator"),
            ["dpo"] = await OpsSignIn.ClientAsync(address, "dpo"),
            ["admin"] = await OpsSignIn.ClientAsync(address, "admin"),
        };
        var mismatches = new List<string>();
        foreach (var (method, template, signedOut, @operator, dpo, admin) in Matrix)
        {
            var path = template.Replace("{transfer}", transfer, StringComparison.Ordinal);
            foreach (var (who, expected) in new[] { ("signed out", signedOut), ("operator", @operator), ("dpo", dpo), ("admin", admin) })
            {
                using var response = method == "GET"
                    ? await clients[who].SendAsync(new HttpRequestMessage(HttpMethod.Get, path) { Headers = { { "Accept", "text/html" } } })
                    : await OpsSignIn.PostFormAsync(clients[who], path, Form(path));
                var actual = Classify(response);
                output.WriteLine($"{method} {path} as {who}: {(int)response.StatusCode} {response.Headers.Location} → {actual} (expected {expected})");
                if (actual != expected)
                {
                    mismatches.Add($"{method} {path} as {who}: {actual}, expected {expected}");
                }
            }
        }

        Assert.Empty(mismatches);

        // A form post without the page's antiforgery token is refused, even from an admin (no cross-site request).
        using var forged = await clients["admin"].PostAsync("/ops/parked/replay", new FormUrlEncodedContent(new Dictionary<string, string> { ["keys"] = "x" }));
        output.WriteLine($"admin replay without the form's token: {(int)forged.StatusCode}");
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);

        // A wrong password signs nobody in; the attempt is recorded, without the password.
        using var refused = await OpsSignIn.PostFormAsync(clients["signed out"], "/ops/signin", new() { ["user"] = "admin", ["password"] = "not the password" });
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("do not match", await refused.Content.ReadAsStringAsync());
        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var audit = database.CreateCommand("SELECT string_agg(actor || ' ' || action || ' ' || target || ' ' || detail, '; ') FROM ops_audit");
        var recorded = (string)(await audit.ExecuteScalarAsync())!;
        output.WriteLine($"audit: {recorded}");
        Assert.Contains("admin sign-in-refused", recorded);
        Assert.Contains("dpo subject-report-viewed pseudonym ", recorded);
        Assert.Contains("admin replayed", recorded);
        Assert.DoesNotContain("not the password", recorded);
        Assert.DoesNotContain("123456782", recorded); // the BSN the DPO typed: only its pseudonym is kept
    }

    static Dictionary<string, string> Form(string path) => path switch
    {
        "/ops/subject" => new() { ["id"] = "123456782" },
        "/ops/parked/replay" => new() { ["keys"] = "00000000-0000-0000-0000-000000000000:none", ["returnUrl"] = "/ops/parked" },
        "/ops/recipients/route" => new() { ["recipient"] = "vmsw", ["change"] = "enable" },
        _ => [],
    };

    static string Classify(HttpResponseMessage response) => response.StatusCode switch
    {
        HttpStatusCode.OK => Ok,
        HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.Redirect when response.Headers.Location?.OriginalString.Contains("/ops/signin", StringComparison.Ordinal) == true => SignIn,
        HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.Redirect => Done,
        HttpStatusCode.Unauthorized => Unauthorized,
        HttpStatusCode.Forbidden => Forbidden,
        var other => ((int)other).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>One event through the gateway, for a transfer detail page to show: its path.</summary>
    static async Task<string> AnyTransferAsync(TestBed bed)
    {
        var absence = new Gateway.Events.SampleEventGenerator(1501, TimeProvider.System).NextAbsenceReported();
        await bed.PublishAsync([absence]);
        await bed.WaitForReceiptsAsync("duo", 1, TimeSpan.FromSeconds(30));
        return $"{absence.EventId:D}/duo-verzuimregister";
    }

    [Fact]
    public async Task BehindATrustedProxy_TheUserAndRolesComeFromItsHeaders_OnlyFromItsAddress()
    {
        await using var bed = await TestBed.StartAsync();
        async Task<(HttpStatusCode Transfers, HttpStatusCode Audit, HttpStatusCode Bare)> AskAsync(string proxyAddress)
        {
            await using var gateway = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?>
            {
                ["Ops:TrustedProxy:Enabled"] = "true",
                ["Ops:TrustedProxy:Addresses:0"] = proxyAddress,
            });
            using var http = await OpsSignIn.ClientAsync(new Uri(gateway.Urls.First()), null);
            HttpRequestMessage As(string path, bool headers)
            {
                var request = new HttpRequestMessage(HttpMethod.Get, path);
                if (headers)
                {
                    request.Headers.Add("X-Forwarded-User", "ana@school.example");
                    request.Headers.Add("X-Forwarded-Roles", "operator");
                }

                return request;
            }

            using var transfers = await http.SendAsync(As("/ops/transfers", headers: true));
            using var audit = await http.SendAsync(As("/ops/audit", headers: true));
            using var bare = await http.SendAsync(As("/ops/transfers", headers: false));
            return (transfers.StatusCode, audit.StatusCode, bare.StatusCode);
        }

        var fromProxy = await AskAsync("127.0.0.1");
        var fromElsewhere = await AskAsync("10.1.2.3");
        output.WriteLine($"from the proxy's address: transfers {(int)fromProxy.Transfers}, audit {(int)fromProxy.Audit}, without headers {(int)fromProxy.Bare}; " +
                         $"from another address: transfers {(int)fromElsewhere.Transfers}");
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Forbidden, HttpStatusCode.Unauthorized), fromProxy);
        Assert.Equal(HttpStatusCode.Unauthorized, fromElsewhere.Transfers); // headers anyone could send are not believed
    }

    [Fact]
    public async Task ASignIn_OutlivesARestart_ButNotAChangeOfItsUsersRoles()
    {
        await using var bed = await TestBed.StartAsync();
        HttpClient http;
        async Task<string> TransfersAsync(WebApplication gateway)
        {
            using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(gateway.Urls.First()), "/ops/transfers")) { Headers = { { "Accept", "text/html" } } });
            return response.StatusCode == HttpStatusCode.OK ? "200" : $"{(int)response.StatusCode} {response.Headers.Location}";
        }

        await using (var first = await bed.StartGatewayInProcessAsync())
        {
            http = await OpsSignIn.ClientAsync(new Uri(first.Urls.First()), "operator");
            Assert.Equal("200", await TransfersAsync(first));
        }

        // Another gateway on the same database takes the same cookie: the keys are in the database, not in the process.
        await using (var second = await bed.StartGatewayInProcessAsync())
        {
            Assert.Equal("200", await TransfersAsync(second));
        }

        // The operator is made a DPO in the configuration: the sign-in made as operator no longer counts.
        await using var third = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?> { ["Ops:Users:operator:Roles:0"] = "dpo" });
        var after = await TransfersAsync(third);
        output.WriteLine($"after the role change: {after}");
        Assert.StartsWith("302", after);
        Assert.Contains("/ops/signin", after);
        http.Dispose();
    }
}
