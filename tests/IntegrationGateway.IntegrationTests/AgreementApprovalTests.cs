using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Ops;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Npgsql;

namespace IntegrationGateway.IntegrationTests;

/// <summary>
/// An agreement is a contract a DPO approves by the hash of its exact text: an edited file goes live only once its
/// new text is approved. Meanwhile its transfers are held, not sent and not dropped; then they go out under that hash,
/// and the history answers which text was in force when.
/// </summary>
public sealed class AgreementApprovalTests(ITestOutputHelper output)
{
    const string Id = "duo-verzuimregister";

    [Fact]
    public async Task AnEditedAgreement_HoldsItsTransfersAwaitingApproval_UntilPolicyApprove_ThenTheyGoOutUnderItsHash_AndHistoryShowsBothTexts()
    {
        const int count = 6;
        // A copy of the shipped agreements in which DUO's absence register no longer receives the birth date, one version on.
        var v2 = AgreementLoader.LoadFile(Path.Combine(TestServices.Agreements, Id + ".yaml")).Agreement!;
        var (folder, v3) = Version3Without("subject.birthDate");
        Assert.Equal(v2.Version + 1, v3.Version);
        Assert.NotEqual(v2.Hash, v3.Hash);

        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?>(TestServices.FastDelivery) { ["Agreements:Directory"] = folder });
        var events = new SampleEventGenerator(907, TimeProvider.System).AbsenceReported(count);
        await bed.PublishAsync(events);

        // The officer's agreement is approved as it was: its transfers go out; DUO's are held, every one of them.
        await bed.WaitForTakenAsync(count);
        var officer = await bed.WaitForReceiptsAsync("leerplicht", count, TimeSpan.FromSeconds(30));
        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        var held = await RowsAsync(database, $"SELECT state FROM parked_transfer WHERE agreement_id = '{Id}'");
        var decided = await RowsAsync(database, $"SELECT outcome || ' ' || array_to_string(reasons, ',') || ' ' || agreement_hash FROM ledger_entry WHERE agreement_id = '{Id}' AND kind = 'decision'");
        output.WriteLine($"before the approval: officer {officer.Count} receipts, DUO {bed.Receipts.List("duo").Count}; parked under {Id}: {string.Join(", ", held.GroupBy(s => s).Select(g => $"{g.Count()} {g.Key}"))}; decisions: {decided.Distinct().Single()}");
        Assert.Equal(count, officer.Count);
        Assert.Empty(bed.Receipts.List("duo"));
        Assert.Equal(Enumerable.Repeat("awaiting-approval", count), held);
        Assert.Equal(Enumerable.Repeat($"held awaiting-approval {v3.Hash}", count), decided);

        // The DPO approves the new text by its hash; within a round the gateway releases what it held.
        var (exit, approved, error) = await GatewayCommandLine.RunAsync(["policy", "approve", "--agreement", Id, "--hash", v3.Hash, .. GatewayCommandLine.DatabaseSettings]);
        output.WriteLine(approved + error);
        Assert.True(exit == 0, error);
        Assert.Contains($"Approved agreement {Id} {v3.Hash}; {count} held transfer(s) are due now", approved);
        var duo = await bed.WaitForReceiptsAsync("duo", count, TimeSpan.FromSeconds(30));
        Assert.Equal(count, duo.Count);
        Assert.All(duo, r => Assert.Null(r.Body!["record"]!["subject"]!["birthDate"])); // v3's text: no birth date
        Assert.All(duo, r => Assert.Equal(v3.Hash, r.Body!["agreementHash"]!.GetValue<string>())); // and the envelope names it
        Assert.All(duo, r => Assert.Empty(r.FieldsOutsideAllowList));
        var outcomes = await RowsAsync(database, $"SELECT outcome || ' ' || agreement_version || ' ' || agreement_hash FROM ledger_entry WHERE agreement_id = '{Id}' AND kind = 'outcome'");
        Assert.Equal(Enumerable.Repeat($"delivered {v3.Version} {v3.Hash}", count), outcomes);
        Assert.Equal(0, await bed.WaitForParkedAsync(0, TimeSpan.FromSeconds(10)));

        // Which text was in force when: both, with who approved each; the approval is in the staff audit.
        var (historyExit, history, _) = await GatewayCommandLine.RunAsync(["policy", "history", "--agreement", Id, "--on", TimeProvider.System.GetUtcNow().ToString("O"), .. GatewayCommandLine.DatabaseSettings]);
        output.WriteLine(history);
        Assert.Equal(0, historyExit);
        Assert.Contains($"v{v2.Version} {v2.Hash}", history);
        Assert.Contains($"approved by {TestServices.ApprovedByTheTests}", history);
        Assert.Contains($"v{v3.Version} {v3.Hash}", history);
        Assert.Contains($"approved by {OpsAudit.CommandLineActor}", history);
        Assert.Contains($"in force: v{v3.Version} {v3.Hash}.", history);
        Assert.Contains("2 text(s) of duo-verzuimregister, 2 approved.", history);
        var audit = await AuditRows.OfAsync(OpsAudit.Actions.AgreementApproved);
        Assert.Equal([$"{OpsAudit.CommandLineActor} agreement-approved {Id} {v3.Hash}; on the command line"], audit);

        // An unknown hash approves nothing.
        var (wrongExit, _, wrong) = await GatewayCommandLine.RunAsync(["policy", "approve", "--agreement", Id, "--hash", "sha256:0000", .. GatewayCommandLine.DatabaseSettings]);
        Assert.NotEqual(0, wrongExit);
        Assert.Contains("has no loaded text with hash sha256:0000", wrong);
    }

    [Fact]
    public async Task OnTheOpsAgreementsPage_ADpoSeesTheTextPending_AndApprovesIt_AnOperatorCannot_AndTheHeldTransfersGo()
    {
        const int count = 3;
        var (folder, v3) = Version3Without("absence.hours");
        await using var bed = await TestBed.StartAsync();
        await using var gateway = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?>(TestServices.FastDelivery) { ["Agreements:Directory"] = folder });
        await bed.PublishAsync(new SampleEventGenerator(908, TimeProvider.System).AbsenceReported(count));
        await bed.WaitForTakenAsync(count);
        var address = new Uri(gateway.Urls.First());
        using var dpo = await OpsSignIn.ClientAsync(address, "dpo");
        using var @operator = await OpsSignIn.ClientAsync(address, "operator");

        var page = await dpo.GetStringAsync("/ops/agreements");
        Assert.Contains("text NOT approved: its transfers are held", page);
        Assert.Contains($"name=\"hash\" value=\"{v3.Hash}\"", page);
        Assert.DoesNotContain("Approve this text", await @operator.GetStringAsync("/ops/agreements"));
        Assert.Empty(bed.Receipts.List("duo"));

        using (var refused = await OpsSignIn.PostFormAsync(@operator, "/ops/agreements/approve", new() { ["agreement"] = Id, ["hash"] = v3.Hash }))
        {
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
        }

        using (var stale = await OpsSignIn.PostFormAsync(dpo, "/ops/agreements/approve", new() { ["agreement"] = Id, ["hash"] = "sha256:another-text" }))
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, stale.StatusCode); // only the text the gateway runs on, as the page showed it
        }

        Assert.Empty(bed.Receipts.List("duo"));
        using (var approved = await OpsSignIn.PostFormAsync(dpo, "/ops/agreements/approve", new() { ["agreement"] = Id, ["hash"] = v3.Hash }))
        {
            Assert.Equal(System.Net.HttpStatusCode.Redirect, approved.StatusCode);
        }

        var duo = await bed.WaitForReceiptsAsync("duo", count, TimeSpan.FromSeconds(30));
        Assert.Equal(count, duo.Count);
        Assert.All(duo, r => Assert.Null(r.Body!["record"]!["absence"]!["hours"]));
        Assert.Contains("text approved", await dpo.GetStringAsync("/ops/agreements"));
        Assert.Equal([$"dpo agreement-approved {Id} {v3.Hash}; version {v3.Version}"], await AuditRows.OfAsync(OpsAudit.Actions.AgreementApproved));
        output.WriteLine($"the DPO approved {Id} v{v3.Version} on the ops page; {duo.Count} held transfers reached DUO without absence.hours");
    }

    /// <summary>A copy of the shipped agreements in which DUO's absence register, one version on, no longer lists <paramref name="field"/>.</summary>
    static (string Folder, Agreement Version3) Version3Without(string field)
    {
        var folder = Directory.CreateTempSubdirectory("agreements-edited-").FullName;
        foreach (var file in Directory.GetFiles(TestServices.Agreements, "*.yaml"))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        var edited = Path.Combine(folder, Id + ".yaml");
        var text = File.ReadAllText(edited);
        Assert.Contains($"  - {field}\n", text);
        var shipped = AgreementLoader.LoadFile(edited).Agreement!.Version;
        File.WriteAllText(edited, text.Replace($"version: {shipped}", $"version: {shipped + 1}", StringComparison.Ordinal).Replace($"  - {field}\n", "", StringComparison.Ordinal));
        return (folder, AgreementLoader.LoadFile(edited).Agreement!);
    }

    static async Task<List<string>> RowsAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
