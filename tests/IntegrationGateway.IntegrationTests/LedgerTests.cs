using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Npgsql;

namespace IntegrationGateway.IntegrationTests;

/// <summary>Every decision and outcome in the ledger, chained: a change, a deletion or an insertion made with SQL is found and named.</summary>
public sealed class LedgerTests(ITestOutputHelper output)
{
    static async Task<(int Exit, string Out)> VerifyAsync()
    {
        var (exit, stdout, stderr) = await GatewayCommandLine.RunAsync(["ledger", "verify", .. GatewayCommandLine.DatabaseSettings]);
        return (exit, (stdout + stderr).Trim());
    }

    static async Task ExecuteAsync(string sql)
    {
        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task LedgerVerify_PassesAfterTraffic_AndNamesTheEntryAfterAnUpdate()
    {
        await using var bed = await TestBed.StartAsync();
        await using (var gateway = await bed.StartGatewayInProcessAsync())
        {
            var generator = new SampleEventGenerator(909, TimeProvider.System);
            await bed.PublishAsync(Enumerable.Range(0, 10).Select(_ => (StudentEnrolled)generator.Next(nameof(StudentEnrolled))).ToList());
            await bed.WaitForReceiptsAsync("ggd", 10, TimeSpan.FromSeconds(30));
            await Task.Delay(500);
        }

        var intact = await VerifyAsync();
        output.WriteLine(intact.Out);
        Assert.Equal(0, intact.Exit);
        Assert.Matches(@"Ledger intact: (4\d) entries", intact.Out); // 10 events × 4 agreements (DUO, officer, GGD, photographer)

        // An UPDATE: someone rewrites who received entry 7.
        await ExecuteAsync("UPDATE ledger_entry SET recipient = 'someone-else' WHERE seq = 7");
        var updated = await VerifyAsync();
        output.WriteLine(updated.Out);
        Assert.Equal(1, updated.Exit);
        Assert.Contains("broken at entry 7", updated.Out);
        Assert.Contains("does not match its hash", updated.Out);
    }

    [Fact]
    public async Task LedgerVerify_FindsADeletedRow()
    {
        await using var bed = await TestBed.StartAsync();
        await ProduceAsync(bed);

        await ExecuteAsync("DELETE FROM ledger_entry WHERE seq = 5");
        var deleted = await VerifyAsync();

        output.WriteLine(deleted.Out);
        Assert.Equal(1, deleted.Exit);
        Assert.Contains("broken at entry 5", deleted.Out);
        Assert.Contains("missing (deleted?)", deleted.Out);
    }

    [Fact]
    public async Task LedgerVerify_FindsAnInsertedRow()
    {
        await using var bed = await TestBed.StartAsync();
        var entries = await ProduceAsync(bed);

        // A forged entry appended with SQL: it cannot carry a valid keyed hash.
        await ExecuteAsync($"""
            INSERT INTO ledger_entry SELECT seq + 1, recorded_at, kind, event_id, event_type, sender, agreement_id, agreement_version, 'forged-recipient', legal_basis,
                outcome, reasons, disclosed, withheld, payload_sha256, idempotency_key, attempts, status_code, receipt, trace_id, subject_pseudonym, entry_hash, entry_hash
            FROM ledger_entry WHERE seq = {entries}
            """);
        var inserted = await VerifyAsync();

        output.WriteLine(inserted.Out);
        Assert.Equal(1, inserted.Exit);
        Assert.Contains($"broken at entry {entries + 1}", inserted.Out);
    }

    /// <summary>Some traffic through a gateway, stopped again; returns how many entries the ledger holds.</summary>
    static async Task<long> ProduceAsync(TestBed bed)
    {
        await using (var gateway = await bed.StartGatewayInProcessAsync())
        {
            var generator = new SampleEventGenerator(910, TimeProvider.System);
            await bed.PublishAsync(generator.AbsenceReported(5));
            await bed.WaitForReceiptsAsync("leerplicht", 5, TimeSpan.FromSeconds(30));
            await Task.Delay(500);
        }

        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand("SELECT count(*) FROM ledger_entry");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
