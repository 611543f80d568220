using IntegrationGateway.AgencySimulator;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.IntegrationTests.Infrastructure;
using Npgsql;

namespace IntegrationGateway.IntegrationTests;

/// <summary>The gateway's database is not a second copy of the personal data: a full dump holds none of it.</summary>
public sealed class DatabaseDumpTests(ITestOutputHelper output)
{
    [Fact]
    public async Task PgDump_AfterTrafficAndParkedTransfers_HoldsNoNameIdentifierAddressOrEmail()
    {
        await using var bed = await TestBed.StartAsync();
        var generator = new SampleEventGenerator(1001, TimeProvider.System);
        var events = SampleEventGenerator.EventTypes.SelectMany(t => Enumerable.Range(0, 4).Select(_ => generator.Next(t))).ToList();
        bed.SimulatorBehaviour.Set("leerplicht", new Misbehaviour(503, null, false, TimeSpan.Zero, null)); // some transfers stay parked
        await using (var gateway = await bed.StartGatewayInProcessAsync(new Dictionary<string, string?>(TestServices.FastDelivery)))
        {
            foreach (var e in events)
            {
                await bed.Publisher.Publish(e, e.GetType());
            }

            await bed.WaitForReceiptsAsync("duo", events.Count(e => e is AbsenceReported or StudentEnrolled or StudentDeregistered or ExamResultRecorded or DiplomaAwarded), TimeSpan.FromSeconds(60));
            await bed.WaitForTakenAsync(events.Count);
        }

        var dump = await PgDumpAsync();
        var values = events.SelectMany(PersonalValues.Of).Distinct().ToList();
        var found = values.Where(v => dump.Contains(v, StringComparison.Ordinal)).ToList();
        var ledgerRows = CountRows(dump, "ledger_entry");
        var parkedRows = CountRows(dump, "parked_transfer");

        output.WriteLine($"pg_dump: {dump.Length} characters, {ledgerRows} ledger entries, {parkedRows} parked transfers; searched {values.Count} names, identifiers, addresses and e-mail addresses of {events.Count} events: {found.Count} found");
        Assert.True(ledgerRows > 0 && parkedRows > 0, "the dump holds no ledger or parked rows: the check would prove nothing");
        Assert.Empty(found);
    }

    /// <summary>Rows of a table in a plain-format dump: the lines of its COPY block.</summary>
    static int CountRows(string dump, string table)
    {
        var start = dump.IndexOf($"COPY public.{table} ", StringComparison.Ordinal);
        if (start < 0)
        {
            return 0;
        }

        var body = dump[(dump.IndexOf('\n', start) + 1)..];
        return body[..body.IndexOf("\n\\.", StringComparison.Ordinal)].Split('\n').Length;
    }

    /// <summary>A plain-format dump of the tests' database, as its owner.</summary>
    static async Task<string> PgDumpAsync()
    {
        var connection = new NpgsqlConnectionStringBuilder(TestServices.DatabaseConnectionString);
        var dump = await LocalPrograms.RunAsync(
            LocalPrograms.Postgres("pg_dump"),
            ["-h", connection.Host!, "-p", connection.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", connection.Username!, "-d", connection.Database!, "--no-owner"],
            new Dictionary<string, string> { ["PGPASSWORD"] = connection.Password! });
        Assert.True(dump.ExitCode == 0, $"pg_dump failed: {dump.Errors}");
        return dump.Output;
    }
}
