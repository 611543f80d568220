using Microsoft.AspNetCore.Builder;
using System.Net;
using IntegrationGateway.Gateway.Ops;
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
        ("GET", "/ops/audit", SignIn, Forbidden, Ok, Ok),
        ("GET", "/ops/audit?action=signed-in&page=2", SignIn, Forbidden, Ok, Ok),
        ("GET", "/ops/summary", Unauthorized, Ok, Forbidden, Ok),
        ("POST", "/ops/parked/replay", Unauthorized, Forbidden, Forbidden, Done),
        ("POST", "/ops/recipients/route", Unauthorized, Forbidden, Forbidden, Done),
        ("POST", "/ops/agreements/approve", Unauthorized, Forbidden, Done, Forbidden),
        ("GET", "/ops/signin", Ok, Ok, Ok, Ok),
    ];

    [Fact]
    [Trait("Tier", "Security")]
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
        output.WriteLine("attack: a form post without the page's antiforgery token (CSRF): refused");

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
        // The shipped text, approved already by the tests: the DPO's approval changes nothing but is answered.
        "/ops/agreements/approve" => new() { ["agreement"] = "duo-verzuimregister", ["hash"] = Gateway.Policy.AgreementLoader.LoadFile(Path.Combine(TestServices.Agreements, "duo-verzuimregister.yaml")).Agreement!.Hash },
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

    /// <summary>
    /// The matrix's controller dimension: the staff of school A (school-003) against a gateway that holds school B's
    /// (demo-school-b) transfers, parked transfers, audit rows and subject history too. Page by page and endpoint by
    /// endpoint, A's operator, DPO and admin get A's rows and none of B's: an empty result or a 403, never B's data.
    /// </summary>
    [Fact]
    public async Task AControllersStaff_SeeNoneOfAnotherControllersData_PageByPageAndEndpointByEndpoint()
    {
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?>
        {
            // School B's own DPO, whose subject-report view is an audit row of B's.
            ["Ops:Users:b-dpo:PasswordHash"] = OpsAccess.HashPassword(OpsSignIn.Password),
            ["Ops:Users:b-dpo:TotpSecret"] = OpsSignIn.TotpSecret,
            ["Ops:Users:b-dpo:Roles:0"] = "dpo",
            ["Ops:Users:b-dpo:Controllers:0"] = "demo-school-b",
            // School B's admin, and a DPO of both schools, whose one view is two audit rows, one per school.
            ["Ops:Users:b-admin:PasswordHash"] = OpsAccess.HashPassword(OpsSignIn.Password),
            ["Ops:Users:b-admin:TotpSecret"] = OpsSignIn.TotpSecret,
            ["Ops:Users:b-admin:Roles:0"] = "admin",
            ["Ops:Users:b-admin:Controllers:0"] = "demo-school-b",
            ["Ops:Users:both-dpo:PasswordHash"] = OpsAccess.HashPassword(OpsSignIn.Password),
            ["Ops:Users:both-dpo:TotpSecret"] = OpsSignIn.TotpSecret,
            ["Ops:Users:both-dpo:Roles:0"] = "dpo",
            ["Ops:Users:both-dpo:Controllers:0"] = "school-003",
            ["Ops:Users:both-dpo:Controllers:1"] = "demo-school-b",
        });
        var address = new Uri(gateway.Urls.First());
        var generator = new Gateway.Events.SampleEventGenerator(1503, TimeProvider.System);

        // One pupil enrolled at both schools; the GGD refuses each school's first transfer, so both have a parked (refused) one.
        bed.SimulatorBehaviour.Set("ggd", new AgencySimulator.Misbehaviour(422, null, false, TimeSpan.Zero, null, Times: 2));
        var atA = generator.NextDutchEnrolment();
        var atB = generator.NextDutchEnrolment() with { Subject = atA.Subject, Source = new Contracts.EventSource { InstitutionId = "23CD", System = "Magister" } };
        await bed.Publisher.Publish(atA);
        await bed.Publisher.Publish(atB);
        await bed.WaitForTakenAsync(2);
        Assert.Equal(2, await bed.WaitForParkedAsync(2, TimeSpan.FromSeconds(30)));
        string A(string agreement) => $"{atA.EventId:D}/{agreement}";
        string B(string agreement) => $"{atB.EventId:D}/{agreement}";
        var bParkedKey = TransferKeys.Of(atB.EventId, "ggd-jeugdgezondheidszorg");

        using (var bDpo = await OpsSignIn.ClientAsync(address, "b-dpo"))
        using (var viewed = await OpsSignIn.PostFormAsync(bDpo, "/ops/subject", new() { ["id"] = atA.Subject.Bsn! }))
        {
            Assert.Contains("demo-school-b", await viewed.Content.ReadAsStringAsync()); // B's DPO sees B's transfers
        }

        using (var bothDpo = await OpsSignIn.ClientAsync(address, "both-dpo"))
        using (var viewed = await OpsSignIn.PostFormAsync(bothDpo, "/ops/subject", new() { ["id"] = atA.Subject.Bsn! }))
        {
            var both = await viewed.Content.ReadAsStringAsync();
            Assert.Contains("demo-school-b", both);
            Assert.Contains("school-003", both);
        }

        using (var bAdmin = await OpsSignIn.ClientAsync(address, "b-admin"))
        {
            // The two-school DPO's view, as B's admin reads it: B's count, nothing of A's.
            var audit = await bAdmin.GetStringAsync("/ops/audit");
            Assert.Contains("transfer(s) of demo-school-b", audit);
            Assert.DoesNotContain("of school-003", audit);
        }

        var bIds = new[] { atB.EventId.ToString("D"), atB.EventId.ToString("D")[..8], "demo-school-b", "b-dpo", "b-admin" };
        var leaks = new List<string>();
        var checks = 0;
        async Task<string> Read(HttpClient http, string who, string path, HttpStatusCode expected, string? mustShow = null, Dictionary<string, string>? form = null)
        {
            using var response = form is null
                ? await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, path) { Headers = { { "Accept", "text/html" } } })
                : await OpsSignIn.PostFormAsync(http, path, form);
            var body = await response.Content.ReadAsStringAsync();
            output.WriteLine($"{(form is null ? "GET" : "POST")} {path} as {who}: {(int)response.StatusCode}");
            checks++;
            if (response.StatusCode != expected)
            {
                leaks.Add($"{path} as {who}: {(int)response.StatusCode}, expected {(int)expected}");
            }

            // What the reader typed may be said back to them ("no transfer of event ..."); anything else of B's may not.
            foreach (var id in bIds.Where(id => body.Contains(id, StringComparison.Ordinal) && !path.Contains(id, StringComparison.Ordinal) && form?.ContainsValue(id) != true))
            {
                leaks.Add($"{path} as {who} shows school B's '{id}'");
            }

            if (mustShow is not null && !body.Contains(mustShow, StringComparison.Ordinal))
            {
                leaks.Add($"{path} as {who} does not show school A's '{mustShow}': the check would prove nothing");
            }

            return body;
        }

        foreach (var role in new[] { "operator", "admin" })
        {
            var who = $"school-{role}";
            using var http = await OpsSignIn.ClientAsync(address, who);
            await Read(http, who, "/ops/transfers", HttpStatusCode.OK, mustShow: atA.EventId.ToString("D")[..8]);
            await Read(http, who, "/ops/transfers?recipient=ggd&outcome=parked", HttpStatusCode.OK);
            await Read(http, who, "/ops/transfers/" + A("ggd-jeugdgezondheidszorg"), HttpStatusCode.OK, mustShow: atA.EventId.ToString("D"));
            await Read(http, who, "/ops/transfers/" + B("ggd-jeugdgezondheidszorg"), HttpStatusCode.NotFound);
            await Read(http, who, "/ops/transfers/" + B("duo-bron-inschrijvingen-examens"), HttpStatusCode.NotFound);
            await Read(http, who, "/ops/parked", HttpStatusCode.OK, mustShow: atA.EventId.ToString("D"));
            var recipients = await Read(http, who, "/ops/recipients", HttpStatusCode.OK);
            // GGD's row: 0 waiting, 1 refused (A's), 0 held; the platform sees 2 refused.
            Assert.Matches(@"<td>ggd</td>(?:\s*<td[^>]*>[^<]*</td>){4}\s*<td>0</td><td>1</td><td>0</td>", recipients);
            await Read(http, who, "/ops/summary", HttpStatusCode.Forbidden);
            await Read(http, who, "/ops/agreements", HttpStatusCode.OK, mustShow: "controller-school-003");
        }

        using (var admin = await OpsSignIn.ClientAsync(address, "school-admin"))
        {
            await Read(admin, "school-admin", "/ops/audit", HttpStatusCode.OK, mustShow: "school-admin");
            // B's parked transfer is no transfer for A's admin: not replayed; A's own is.
            var replay = await Read(admin, "school-admin", "/ops/parked/replay", HttpStatusCode.Found,
                form: new() { ["keys"] = bParkedKey, ["returnUrl"] = "/ops/parked" });
            await Read(admin, "school-admin", "/ops/parked", HttpStatusCode.OK, mustShow: "not found among your controllers");
            await Read(admin, "school-admin", "/ops/recipients/route", HttpStatusCode.Forbidden, form: new() { ["recipient"] = "ggd", ["change"] = "disable" });
        }

        using (var dpo = await OpsSignIn.ClientAsync(address, "school-dpo"))
        {
            await Read(dpo, "school-dpo", "/ops/subject", HttpStatusCode.OK, mustShow: "school-003", form: new() { ["id"] = atA.Subject.Bsn! });
            await Read(dpo, "school-dpo", "/ops/agreements", HttpStatusCode.OK, mustShow: "controller-school-003");
        }

        // The platform's staff see both schools: the same checks, the other way round, so they can fail.
        using (var platform = await OpsSignIn.ClientAsync(address, "admin"))
        {
            var all = await platform.GetStringAsync("/ops/transfers");
            Assert.Contains(atB.EventId.ToString("D")[..8], all);
            Assert.Matches(@"<td>ggd</td>(?:\s*<td[^>]*>[^<]*</td>){4}\s*<td>0</td><td>2</td><td>0</td>", await platform.GetStringAsync("/ops/recipients"));
            Assert.Contains("b-dpo", await platform.GetStringAsync("/ops/audit"));
        }

        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var stillRefused = database.CreateCommand("SELECT state FROM parked_transfer WHERE idempotency_key = $1");
        stillRefused.Parameters.Add(new() { Value = bParkedKey });
        Assert.Equal("rejected", (string?)await stillRefused.ExecuteScalarAsync()); // A's admin did not replay it
        output.WriteLine($"{checks} checks; {string.Join("; ", leaks)}");
        Assert.Empty(leaks);
    }

    [Fact]
    [Trait("Tier", "Security")]
    public async Task BehindATrustedProxy_TheUserAndRolesComeFromItsHeaders_OnlyFromItsAddressWithItsSecret_NeverMerged()
    {
        const string secret = "the proxy's own secret, 32 characters or more";
        await using var bed = await TestBed.StartAsync();
        async Task<Dictionary<string, HttpStatusCode>> AskAsync(string proxyAddress)
        {
            await using var gateway = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?>
            {
                ["Ops:TrustedProxy:Enabled"] = "true",
                ["Ops:TrustedProxy:Addresses:0"] = proxyAddress,
                ["Ops:TrustedProxy:Secret"] = secret,
            });
            using var http = await OpsSignIn.ClientAsync(new Uri(gateway.Urls.First()), null);
            async Task<HttpStatusCode> AsAsync(string path, params (string Name, string Value)[] headers)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                foreach (var (name, value) in headers)
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }

                using var response = await http.SendAsync(request);
                return response.StatusCode;
            }

            (string, string) user = ("X-Forwarded-User", "ana@school.example"), operatorRole = ("X-Forwarded-Roles", "operator"), proof = ("X-Proxy-Secret", secret);
            return new()
            {
                ["transfers"] = await AsAsync("/ops/transfers", user, operatorRole, proof),
                ["audit"] = await AsAsync("/ops/audit", user, operatorRole, proof),
                ["the secret but no user"] = await AsAsync("/ops/transfers", proof),
                ["no secret"] = await AsAsync("/ops/transfers", user, operatorRole),
                ["a wrong secret"] = await AsAsync("/ops/transfers", user, operatorRole, ("X-Proxy-Secret", secret + "!")),
                ["the secret twice"] = await AsAsync("/ops/transfers", user, operatorRole, proof, proof),
                ["roles merged with a comma"] = await AsAsync("/ops/audit", user, ("X-Forwarded-Roles", "admin, operator"), proof),
                ["roles header twice"] = await AsAsync("/ops/audit", user, ("X-Forwarded-Roles", "admin"), operatorRole, proof),
                ["user merged with a comma"] = await AsAsync("/ops/transfers", ("X-Forwarded-User", "eve, ana@school.example"), operatorRole, proof),
            };
        }

        var fromProxy = await AskAsync("127.0.0.1");
        var fromElsewhere = await AskAsync("10.1.2.3");
        output.WriteLine($"from the proxy's address: {string.Join(", ", fromProxy.Select(a => $"{a.Key} {(int)a.Value}"))}; from another address: transfers {(int)fromElsewhere["transfers"]}");
        Assert.Equal(HttpStatusCode.OK, fromProxy["transfers"]);
        Assert.Equal(HttpStatusCode.Forbidden, fromProxy["audit"]);
        Assert.All(fromProxy.Where(a => a.Key is not ("transfers" or "audit")), a => Assert.True(a.Value == HttpStatusCode.Unauthorized, $"{a.Key}: {(int)a.Value}, not refused"));
        Assert.Equal(HttpStatusCode.Unauthorized, fromElsewhere["transfers"]); // headers anyone could send are not believed
        foreach (var forged in fromProxy.Keys.Where(k => k is not ("transfers" or "audit")).Append("the proxy's headers from another address"))
        {
            output.WriteLine($"attack: forged proxy sign-in, {forged}: refused");
        }
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
