using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Ops;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Npgsql;

namespace IntegrationGateway.IntegrationTests.Security;

/// <summary>
/// The staff audit as an admin with SQL but without the ledger key would attack it: a row changed, deleted, inserted
/// or cut off the end is found by <c>audit verify</c>, at the row where it happened.
/// </summary>
[Trait("Tier", "Security")]
public sealed class AuditChainTests(ITestOutputHelper output)
{
    const int Rows = 6;

    static async Task<NpgsqlDataSource> FreshAuditAsync()
    {
        await TestServices.RequireDatabaseAsync();
        await TestServices.ResetDatabaseAsync();
        var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        var audit = new OpsAudit(database, LedgerKeys.FromBase64(TestServices.LedgerKey), TimeProvider.System);
        for (var i = 1; i <= Rows; i++)
        {
            await audit.RecordAsync($"staff-{i}", OpsAudit.Actions.SubjectReportViewed, $"pseudonym {i:x16}", $"{i} transfer(s)", new OpsScope(["school-003"]), CancellationToken.None);
        }

        return database;
    }

    static async Task ExecuteAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    async Task<(int Exit, string Out)> VerifyAsync(params string[] more)
    {
        var (exit, stdout, stderr) = await GatewayCommandLine.RunAsync(["audit", "verify", .. more, .. GatewayCommandLine.DatabaseSettings]);
        output.WriteLine($"audit verify {string.Join(' ', more)}: exit {exit}: {stdout.Trim()} {stderr.Trim()}");
        return (exit, stdout);
    }

    [Fact]
    public async Task AnUntouchedAudit_Verifies()
    {
        await using var database = await FreshAuditAsync();
        var (exit, stdout) = await VerifyAsync();
        Assert.Equal(0, exit);
        Assert.Contains($"Audit intact: {Rows} entries", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a changed detail", "UPDATE ops_audit SET detail = '0 transfer(s)' WHERE seq = 3", "broken at entry 3", "does not match its hash")]
    [InlineData("a changed actor", "UPDATE ops_audit SET actor = 'someone-else' WHERE seq = 4", "broken at entry 4", "does not match its hash")]
    [InlineData("a widened scope", "UPDATE ops_audit SET controllers = NULL WHERE seq = 2", "broken at entry 2", "does not match its hash")]
    [InlineData("a deleted row", "DELETE FROM ops_audit WHERE seq = 3", "broken at entry 3", "missing")]
    [InlineData("a row inserted at the end", "INSERT INTO ops_audit (seq, at, actor, action, target, detail, previous_hash, entry_hash) SELECT 7, now(), 'intruder', 'signed-in', '', '', entry_hash, sha256(entry_hash) FROM ops_audit WHERE seq = 6", "broken at entry 7", "does not match its hash")]
    [InlineData("a row inserted without a place", "INSERT INTO ops_audit (at, actor, action, target, detail) VALUES (now(), 'intruder', 'signed-in', '', '')", "broken at entry 7", "no place in the chain")]
    [InlineData("a row inserted in the middle", "UPDATE ops_audit SET seq = -seq WHERE seq >= 4; UPDATE ops_audit SET seq = 1 - seq WHERE seq < 0; INSERT INTO ops_audit (seq, at, actor, action, target, detail, previous_hash, entry_hash) SELECT 4, now(), 'intruder', 'signed-in', '', '', entry_hash, entry_hash FROM ops_audit WHERE seq = 3", "broken at entry 4", "")]
    public async Task ATamperedAudit_IsFound_WhereItHappened(string attack, string sql, string where, string why)
    {
        await using var database = await FreshAuditAsync();
        await ExecuteAsync(database, sql);
        var (exit, stdout) = await VerifyAsync();
        Assert.Equal(1, exit);
        Assert.Contains(where, stdout, StringComparison.Ordinal);
        Assert.Contains(why, stdout, StringComparison.Ordinal);
        output.WriteLine($"attack: {attack}: refused");
    }

    [Fact]
    public async Task RowsCutOffTheEnd_AreFound_AgainstTheAnchorKeptOutside()
    {
        await using var database = await FreshAuditAsync();
        var (_, first) = await VerifyAsync();
        var anchor = first.Split("--anchor next time): ")[1].Trim();
        await ExecuteAsync(database, "DELETE FROM ops_audit WHERE seq >= 5");

        var (withoutAnchor, _) = await VerifyAsync();
        var (exit, stdout) = await VerifyAsync("--anchor", anchor);
        Assert.Equal(0, withoutAnchor); // what is left is a valid chain; only the anchor knows more was there
        Assert.Equal(1, exit);
        Assert.Contains("is gone", stdout, StringComparison.Ordinal);
        output.WriteLine("attack: audit rows cut off the end: found against the anchor");
    }

    [Fact]
    public async Task WithoutTheLedgerKey_NoRowCanBeWrittenThatVerifies()
    {
        // An admin who knows the scheme but not the key writes a row the way the gateway would, with a key of their own.
        await using var database = await FreshAuditAsync();
        var forger = new OpsAudit(database, new LedgerKeys(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), TimeProvider.System);
        await forger.RecordAsync("intruder", OpsAudit.Actions.RecipientEnabled, "duo", "", OpsScope.All, CancellationToken.None);
        var (exit, stdout) = await VerifyAsync();
        Assert.Equal(1, exit);
        Assert.Contains($"broken at entry {Rows + 1}", stdout, StringComparison.Ordinal);
        output.WriteLine("attack: an audit row written without the ledger key: refused");
    }
}
