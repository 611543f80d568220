using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace IntegrationGateway.Benchmarks;

/// <summary>
/// The ledger's real write path against the PostgreSQL that deploy/local starts (the tests' database, emptied
/// first): 1,000 events settling at once, each appending the entries of its four decisions, as the pipeline does, and
/// waiting for their commit. The writer batches them (binary COPY, keyed hash chain). Reported per entry; entries
/// per second = 1 / mean.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class LedgerWriteBenchmarks
{
    /// <summary>In process (see the policy benchmark), and each invocation once: an invocation writes 4,000 rows.</summary>
    sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithStrategy(RunStrategy.Monitoring)
            .WithWarmupCount(3)
            .WithIterationCount(15)
            .WithInvocationCount(1)
            .WithUnrollFactor(1));
    }

    const int Events = 1000;
    const int EntriesPerEvent = 4;

    NpgsqlDataSource _database = null!;
    LedgerWriter _writer = null!;
    IReadOnlyList<LedgerEntry>[] _events = [];

    // Synchronous entry points: the in-process toolchain does not await a benchmark's task (measured: nothing written).
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    async Task SetupAsync()
    {
        var connection = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable("ConnectionStrings__Gateway")
            ?? throw new InvalidOperationException("ConnectionStrings__Gateway is not set: run the benchmarks with deploy/local/bench.sh, which sets it"))
        {
            Database = Environment.GetEnvironmentVariable("IG_POSTGRES_TEST_DB") ?? "integration_gateway_test",
        };
        _database = NpgsqlDataSource.Create(connection.ConnectionString);
        await GatewaySchema.MigrateAsync(_database, TimeProvider.System, CancellationToken.None);
        await using (var truncate = _database.CreateCommand("TRUNCATE ledger_entry"))
        {
            await truncate.ExecuteNonQueryAsync();
        }

        var keys = new LedgerKeys(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        _writer = new LedgerWriter(_database, keys, TimeProvider.System, NullLogger<LedgerWriter>.Instance);
        await _writer.StartAsync(CancellationToken.None);
        byte[][] pseudonyms = [System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)];
        _events = Enumerable.Range(0, Events).Select(i => (IReadOnlyList<LedgerEntry>)Enumerable.Range(0, EntriesPerEvent).Select(a => new LedgerEntry
        {
            Kind = LedgerKinds.Decision,
            EventId = Guid.NewGuid(),
            EventType = "StudentEnrolled",
            Controller = "school-003",
            Sender = "12AB",
            AgreementId = $"agreement-{a}",
            AgreementVersion = 1,
            Recipient = $"recipient-{a}",
            LegalBasis = "GDPR 6(1)(c); Wet op het onderwijstoezicht",
            Outcome = a == 3 ? "blocked" : "delivered",
            Reasons = a == 3 ? ["consent-missing"] : [],
            Disclosed = ["eventId", "occurredAt", "source.institutionId", "subject.bsn", "enrolment.startDate"],
            Withheld = ["subject.givenName", "subject.familyName", "subject.address", "subject.email"],
            PayloadSha256 = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32),
            IdempotencyKey = $"{Guid.NewGuid():D}:agreement-{a}",
            Attempts = 1,
            StatusCode = 201,
            Receipt = Guid.NewGuid().ToString("N"),
            SubjectPseudonyms = pseudonyms, // BSN and the sender's own number
        }).ToList()).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var written = _writer.Written;
        _writer.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        _database.Dispose();
        Console.WriteLine($"// ledger entries written: {written}");
    }

    [Benchmark(OperationsPerInvoke = Events * EntriesPerEvent)]
    public void ThousandEventsSettlingAtOnce() => Task.WhenAll(_events.Select(e => _writer.AppendAsync(e, CancellationToken.None))).GetAwaiter().GetResult();
}
