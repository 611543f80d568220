using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Npgsql;

namespace IntegrationGateway.IntegrationTests;

/// <summary>Every decision and outcome in the ledger, chained: a change, a deletion or an insertion made with SQL is found and named.</summary>
public sealed class LedgerTests(ITestOutputHelper output)
{
    static async Task<(int Exit, string Out)> VerifyAsync(params string[] options)
    {
        var (exit, stdout, stderr) = await GatewayCommandLine.RunAsync(["ledger", "verify", .. options, .. GatewayCommandLine.DatabaseSettings]);
        return (exit, (stdout + stderr).Trim());
    }

    static async Task<T> ScalarAsync<T>(string sql)
    {
        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
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
            await bed.WaitForTakenAsync(10);
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

        // A forged later outcome appended with SQL (a second decision the unique index refuses): it cannot carry a valid keyed hash.
        await ExecuteAsync($"""
            INSERT INTO ledger_entry (seq, recorded_at, kind, event_id, event_type, controller, sender, agreement_id, agreement_version, recipient, legal_basis,
                outcome, reasons, disclosed, withheld, payload_sha256, idempotency_key, attempts, status_code, receipt, trace_id, subject_pseudonyms, previous_hash, entry_hash)
            SELECT seq + 1, recorded_at, 'outcome', event_id, event_type, controller, sender, agreement_id, agreement_version, 'forged-recipient', legal_basis,
                outcome, reasons, disclosed, withheld, payload_sha256, idempotency_key, attempts, status_code, receipt, trace_id, subject_pseudonyms, entry_hash, entry_hash
            FROM ledger_entry WHERE seq = {entries}
            """);
        var inserted = await VerifyAsync();

        output.WriteLine(inserted.Out);
        Assert.Equal(1, inserted.Exit);
        Assert.Contains($"broken at entry {entries + 1}", inserted.Out);
    }

    [Fact]
    public async Task LedgerPurge_BlanksOnlyEntriesPastTheirRetention_DryRunChangesNothing_AndTheChainStillVerifies()
    {
        await using var bed = await TestBed.StartAsync();
        var entries = await ProduceAsync(bed); // 5 absences: DUO's absence register and the officer, one entry each
        var duo = await ScalarAsync<long>("SELECT count(*) FROM ledger_entry WHERE agreement_id = 'duo-verzuimregister'");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        // DUO's absence entries are kept one second here; everything else the default seven years.
        string[] retention = ["--Ledger:Retention:Default", "P7Y", "--Ledger:Retention:Agreements:duo-verzuimregister", "PT1S"];

        var (dryExit, dry, _) = await GatewayCommandLine.RunAsync(["ledger", "purge", "--dry-run", .. retention, .. GatewayCommandLine.DatabaseSettings]);
        output.WriteLine(dry.Trim());
        Assert.Equal(0, dryExit);
        Assert.Contains($"Would purge {duo} ledger entries", dry);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM ledger_entry WHERE kind IN ('purge', 'purged')"));

        // An entry back-dated with SQL past the default retention (to have it blanked, and the change with it) is not
        // purged: the purge checks each entry's hash first, and stops.
        var officer = await ScalarAsync<long>("SELECT min(seq) FROM ledger_entry WHERE agreement_id = 'leerplicht-verzuim'");
        await ExecuteAsync($"UPDATE ledger_entry SET recorded_at = recorded_at - interval '8 years' WHERE seq = {officer}");
        var (refusedExit, _, refused) = await GatewayCommandLine.RunAsync(["ledger", "purge", .. retention, .. GatewayCommandLine.DatabaseSettings]);
        output.WriteLine(refused.Trim());
        Assert.Equal(1, refusedExit);
        Assert.Contains($"Purge refused: entry {officer} does not match its hash", refused);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM ledger_entry WHERE kind IN ('purge', 'purged')"));
        await ExecuteAsync($"UPDATE ledger_entry SET recorded_at = recorded_at + interval '8 years' WHERE seq = {officer}");

        var (exit, purged, _) = await GatewayCommandLine.RunAsync(["ledger", "purge", .. retention, .. GatewayCommandLine.DatabaseSettings]);
        output.WriteLine(purged.Trim());
        Assert.Equal(0, exit);
        Assert.Contains($"Purged {duo} ledger entries", purged);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM ledger_entry WHERE agreement_id = 'duo-verzuimregister'"));
        Assert.Equal(entries - duo, await ScalarAsync<long>("SELECT count(*) FROM ledger_entry WHERE kind IN ('decision', 'outcome')"));
        // Nothing of a blanked entry is left but its place in the chain: no pseudonym, agreement, recipient or field name.
        Assert.Equal(duo, await ScalarAsync<long>(
            "SELECT count(*) FROM ledger_entry WHERE kind = 'purged' AND agreement_id = '' AND recipient = '' AND cardinality(disclosed) = 0 AND cardinality(subject_pseudonyms) = 0 AND idempotency_key IS NULL"));

        var intact = await VerifyAsync();
        output.WriteLine(intact.Out);
        Assert.Equal(0, intact.Exit);
        Assert.Contains($"Ledger intact: {entries + 1} entries ({duo} of them purged under retention", intact.Out);

        // A blanked entry filled in again (a transfer invented for a subject report) breaks the chain.
        var blank = await ScalarAsync<long>("SELECT min(seq) FROM ledger_entry WHERE kind = 'purged'");
        await ExecuteAsync($"UPDATE ledger_entry SET outcome = 'delivered', recipient = 'duo' WHERE seq = {blank}");
        var filled = await VerifyAsync();
        output.WriteLine(filled.Out);
        Assert.Equal(1, filled.Exit);
        Assert.Contains($"entry {blank} is marked purged but holds data", filled.Out);
        await ExecuteAsync($"UPDATE ledger_entry SET outcome = '', recipient = '' WHERE seq = {blank}");

        // A second run finds nothing more; a purge is not a way to blank any row: one blanked by hand breaks the chain.
        var (_, again, _) = await GatewayCommandLine.RunAsync(["ledger", "purge", .. retention, .. GatewayCommandLine.DatabaseSettings]);
        Assert.StartsWith("Nothing to purge", again.Trim());
        var kept = await ScalarAsync<long>("SELECT min(seq) FROM ledger_entry WHERE agreement_id = 'leerplicht-verzuim'");
        await ExecuteAsync($$"""
            UPDATE ledger_entry SET kind = 'purged', event_id = '00000000-0000-0000-0000-000000000000', event_type = '', controller = '', sender = '', agreement_id = '',
                agreement_version = 0, recipient = '', legal_basis = '', outcome = '', reasons = '{}', disclosed = '{}', withheld = '{}', payload_sha256 = NULL,
                idempotency_key = NULL, attempts = 0, status_code = NULL, receipt = NULL, trace_id = NULL, subject_pseudonyms = '{}',
                duration_ms = NULL, agreement_hash = NULL
            WHERE seq = {{kept}}
            """);
        var blanked = await VerifyAsync();
        output.WriteLine(blanked.Out);
        Assert.Equal(1, blanked.Exit);
        Assert.Contains($"entry {kept} was blanked, and no purge entry names it", blanked.Out);
    }

    [Fact]
    public async Task LedgerVerify_WithTheAnchorItPrinted_FindsEntriesCutOffTheEnd()
    {
        await using var bed = await TestBed.StartAsync();
        var entries = await ProduceAsync(bed);
        var first = await VerifyAsync();
        var anchor = System.Text.RegularExpressions.Regex.Match(first.Out, @"--anchor next time\): (\d+:[0-9a-f]{64})").Groups[1].Value;
        output.WriteLine(first.Out);
        Assert.Equal($"{entries}:", anchor[..(anchor.IndexOf(':') + 1)]);

        // The newest two rows deleted: without the anchor the shorter chain still fits together; with it, it does not.
        await ExecuteAsync($"DELETE FROM ledger_entry WHERE seq > {entries - 2}");
        var unanchored = await VerifyAsync();
        var anchored = await VerifyAsync("--anchor", anchor);
        output.WriteLine(unanchored.Out);
        output.WriteLine(anchored.Out);
        Assert.Equal(0, unanchored.Exit);
        Assert.Equal(1, anchored.Exit);
        Assert.Contains($"entry {entries}, anchored outside the database, is gone", anchored.Out);
    }

    /// <summary>Some traffic through a gateway, stopped again; returns how many entries the ledger holds.</summary>
    static async Task<long> ProduceAsync(TestBed bed)
    {
        await using (var gateway = await bed.StartGatewayInProcessAsync())
        {
            var generator = new SampleEventGenerator(910, TimeProvider.System);
            await bed.PublishAsync(generator.AbsenceReported(5));
            await bed.WaitForTakenAsync(5);
        }

        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand("SELECT count(*) FROM ledger_entry");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
