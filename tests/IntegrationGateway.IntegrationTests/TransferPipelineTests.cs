using System.Collections.Concurrent;
using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Subjects;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Sealing;
using IntegrationGateway.Gateway.Storage;
using IntegrationGateway.IntegrationTests.Infrastructure;
using IntegrationGateway.Tests;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IntegrationGateway.IntegrationTests;

/// <summary>
/// The pipeline's settling rules against the real PostgreSQL: each transfer ends delivered, blocked, or parked
/// durably, so the message can be acknowledged. Adapters are scripted here; the HTTP side has its own tests.
/// </summary>
public sealed class TransferPipelineTests : IAsyncLifetime
{
    /// <summary>Answers with <paramref name="status"/> every time.</summary>
    sealed class ScriptedAdapter(string recipient, DeliveryStatus status) : IRecipientAdapter
    {
        int _calls;

        public ConcurrentQueue<OutboundTransfer> Received { get; } = new();

        public int Calls => _calls;

        public string Recipient => recipient;

        public Task<DeliveryResult> DeliverAsync(OutboundTransfer transfer, CancellationToken cancellationToken)
        {
            Received.Enqueue(transfer);
            Interlocked.Increment(ref _calls);
            var code = status switch { DeliveryStatus.Delivered => 201, DeliveryStatus.Rejected => 422, DeliveryStatus.Gone => 410, _ => 503 };
            return Task.FromResult(DeliveryResult.FromStatusCode(code, null));
        }
    }

    // Recipient ids of this test instance only: routes and parked rows live in the shared database.
    readonly string _duo = $"duo-{Guid.NewGuid():N}";
    readonly string _other = $"other-{Guid.NewGuid():N}";
    readonly Sealer _sealer = Sealer.FromBase64(TestServices.SealingKey);
    readonly Contracts.AbsenceReported _event = new SampleEventGenerator(Random.Shared.Next(), TimeProvider.System).NextAbsenceReported();
    readonly LedgerKeys _ledgerKeys = LedgerKeys.FromBase64(TestServices.LedgerKey);
    NpgsqlDataSource _database = null!;
    LedgerWriter _ledger = null!;

    public async Task InitializeAsync()
    {
        await TestServices.RequireDatabaseAsync();
        _database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await GatewaySchema.MigrateAsync(_database, TimeProvider.System, CancellationToken.None);
        _ledger = new LedgerWriter(_database, _ledgerKeys, TimeProvider.System, NullLogger<LedgerWriter>.Instance);
        await _ledger.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _ledger.StopAsync(CancellationToken.None);
        foreach (var table in new[] { "parked_transfer", "recipient_route" })
        {
            await using var command = _database.CreateCommand($"DELETE FROM {table} WHERE recipient = ANY($1)");
            command.Parameters.Add(new() { Value = new[] { _duo, _other } });
            await command.ExecuteNonQueryAsync();
        }

        await _database.DisposeAsync();
    }

    static Agreement Agreement(string id, string recipient, string[]? senders = null) =>
        TestAgreements.Build(id: id, recipient: recipient, senders: senders, fields: ["eventId", "absence"]);

    (TransferPipeline, TransferCounters, ParkedTransfers, RecipientRoutes) Pipeline(Agreement[] agreements, params IRecipientAdapter[] adapters)
    {
        var parked = new ParkedTransfers(_database, _sealer, TimeProvider.System);
        var routes = new RecipientRoutes(_database, TimeProvider.System, NullLogger<RecipientRoutes>.Instance);
        var gateway = new TestGateway
        {
            Store = parked, Routes = routes, Ledger = _ledger, Keys = _ledgerKeys,
            Subjects = new SubjectStates(_database, _ledgerKeys), History = new LedgerSubjectHistory(_database),
        };
        return (gateway.Pipeline(new PolicyEngine(agreements), TestGateway.Adapters(adapters)), gateway.Counters, parked, routes);
    }

    static Task Process(TransferPipeline pipeline, Contracts.AbsenceReported e)
    {
        var body = EventJson.ToDocument(e).RootElement;
        return pipeline.ProcessAsync(e.EventId, EventFacts.Of("AbsenceReported", body, TestAgreements.Sender), body, CancellationToken.None);
    }

    async Task<List<(string Key, string State, byte[] Sealed, int Attempts)>> ParkedRowsAsync()
    {
        await using var command = _database.CreateCommand("SELECT idempotency_key, state, payload_sealed, attempts FROM parked_transfer WHERE recipient = ANY($1) ORDER BY idempotency_key");
        command.Parameters.Add(new() { Value = new[] { _duo, _other } });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string, byte[], int)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetFieldValue<byte[]>(2), reader.GetInt32(3)));
        }

        return rows;
    }

    [Fact]
    public async Task Process_AllowedTransfer_ReachesTheAdapterWithKeyAndMinimisedPayload()
    {
        var duo = new ScriptedAdapter(_duo, DeliveryStatus.Delivered);
        var (pipeline, counters, _, _) = Pipeline([Agreement("a1", _duo)], duo);

        await Process(pipeline, _event);

        var transfer = Assert.Single(duo.Received);
        Assert.Equal($"{_ledgerKeys.TransferReference(_event.EventId, _duo):D}:a1", transfer.IdempotencyKey);
        Assert.Equal(["absence", "eventId"], System.Text.Json.JsonDocument.Parse(transfer.Payload).RootElement.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(1, counters.Snapshot().Count(_duo, TransferOutcome.Delivered));
        Assert.Empty(await ParkedRowsAsync());
    }

    [Fact]
    public async Task Process_DeniedTransfer_NeverReachesTheAdapterAndIsCountedBlocked()
    {
        var duo = new ScriptedAdapter(_duo, DeliveryStatus.Delivered);
        var (pipeline, counters, _, _) = Pipeline([Agreement("a1", _duo, senders: ["99ZZ"])], duo);

        await Process(pipeline, _event);

        Assert.Empty(duo.Received);
        Assert.Equal(1, counters.Snapshot().Count(_duo, TransferOutcome.Blocked));
    }

    [Fact]
    public async Task Process_TransientFailure_IsParkedSealedAndDurable_TheOtherRecipientIsNotHeldUp()
    {
        var duo = new ScriptedAdapter(_duo, DeliveryStatus.Transient);
        var other = new ScriptedAdapter(_other, DeliveryStatus.Delivered);
        var (pipeline, counters, parked, _) = Pipeline([Agreement("a1", _duo), Agreement("a2", _other)], duo, other);

        await Process(pipeline, _event);

        Assert.Equal(1, duo.Calls); // the in-process retries live in the adapter's client; the pipeline does not wait
        Assert.Equal(1, other.Calls);
        var row = Assert.Single(await ParkedRowsAsync());
        Assert.Equal(($"{_ledgerKeys.TransferReference(_event.EventId, _duo):D}:a1", ParkedState.Waiting), (row.Key, row.State));
        Assert.Equal(duo.Received.Single().Payload.ToArray(), _sealer.For(SealingPurposes.ParkedPayload).Open(row.Sealed, ParkedTransfer.SealedFor(row.Key, _duo))); // sealed, and whole
        Assert.False(row.Sealed.AsSpan().IndexOf(duo.Received.Single().Payload.Span[..20]) >= 0);
        Assert.Equal(1, counters.Snapshot().Count(_duo, TransferOutcome.Parked));
        Assert.Equal(1, counters.Snapshot().Count(_other, TransferOutcome.Delivered));
        Assert.Equal(1, counters.Snapshot().EventsSettled);
        Assert.Contains((_duo, ParkedState.Waiting, 1L), await ParkedTransfers.CountsAsync(_database, CancellationToken.None));
    }

    [Fact]
    public async Task ParkedPayload_MovedToAnotherRow_DoesNotOpen_AndIsNeverSent()
    {
        var duo = new ScriptedAdapter(_duo, DeliveryStatus.Transient);
        var other = new ScriptedAdapter(_other, DeliveryStatus.Transient);
        var (pipeline, _, parked, _) = Pipeline([Agreement("a1", _duo), Agreement("a2", _other)], duo, other);
        await Process(pipeline, _event);

        // Someone with write access to the database copies one recipient's sealed payload onto the other's row.
        await using (var command = _database.CreateCommand(
            "UPDATE parked_transfer SET payload_sealed = (SELECT payload_sealed FROM parked_transfer WHERE recipient = $1), next_attempt_at = now() - interval '1 minute' WHERE recipient = $2"))
        {
            command.Parameters.Add(new() { Value = _duo });
            command.Parameters.Add(new() { Value = _other });
            await command.ExecuteNonQueryAsync();
        }

        await using (var due = _database.CreateCommand("UPDATE parked_transfer SET next_attempt_at = now() - interval '1 minute' WHERE recipient = $1"))
        {
            due.Parameters.Add(new() { Value = _duo });
            await due.ExecuteNonQueryAsync();
        }

        var claimed = await parked.ClaimDueAsync(1000, TimeSpan.FromMinutes(1), [], CancellationToken.None);

        Assert.DoesNotContain(claimed, p => p.Recipient == _other);
        Assert.Contains(claimed, p => p.Recipient == _duo);
        Assert.Equal(ParkedState.Rejected, (await ParkedRowsAsync()).Single(r => r.Key.EndsWith(":a2", StringComparison.Ordinal)).State);
    }

    [Fact]
    public async Task Process_RecipientRefuses_IsKeptAsRejectedWithoutRetry()
    {
        var duo = new ScriptedAdapter(_duo, DeliveryStatus.Rejected);
        var (pipeline, counters, _, _) = Pipeline([Agreement("a1", _duo)], duo);

        await Process(pipeline, _event);

        Assert.Equal(1, duo.Calls);
        Assert.Equal(ParkedState.Rejected, Assert.Single(await ParkedRowsAsync()).State);
        Assert.Equal(1, counters.Snapshot().Count(_duo, TransferOutcome.Failed));
    }

    [Fact]
    public async Task Process_410Gone_DisablesThatRoute_LaterTransfersAreHeldWithoutACall_OthersGoOn()
    {
        var duo = new ScriptedAdapter(_duo, DeliveryStatus.Gone);
        var other = new ScriptedAdapter(_other, DeliveryStatus.Delivered);
        var (pipeline, counters, parked, routes) = Pipeline([Agreement("a1", _duo), Agreement("a2", _other)], duo, other);
        var second = new SampleEventGenerator(Random.Shared.Next(), TimeProvider.System).NextAbsenceReported();

        await Process(pipeline, _event);
        await Process(pipeline, second);

        Assert.Equal(1, duo.Calls); // the second transfer was not tried
        Assert.Equal(2, other.Calls);
        Assert.Contains(_duo, await routes.DisabledAsync(CancellationToken.None));
        Assert.All(await ParkedRowsAsync(), r => Assert.Equal(ParkedState.RecipientDisabled, r.State));
        Assert.Equal(2, (await ParkedRowsAsync()).Count);
        Assert.Equal(2, counters.Snapshot().Count(_duo, TransferOutcome.Parked));

        Assert.True(await routes.EnableAsync(_duo, CancellationToken.None));
        Assert.Equal(2, await parked.ReleaseAsync(_duo, CancellationToken.None));
        Assert.All(await ParkedRowsAsync(), r => Assert.Equal(ParkedState.Waiting, r.State));
    }

    [Fact]
    public async Task Process_Unrouted_IsSettledWithoutTransfer()
    {
        var (pipeline, counters, _, _) = Pipeline([]);

        await Process(pipeline, _event);

        Assert.Equal(1, counters.Snapshot().EventsUnrouted);
    }

    [Theory]
    [InlineData(3)] // INSERTs in the round trip that commits
    [InlineData(70)] // over 64: binary COPY, then COMMIT
    public async Task Ledger_ABatchTheDatabaseRefuses_CommitsNothingOfIt_AndTheNextBatchChainsOnTheHead(int size)
    {
        // One connection, so the next batch runs on the very session the refused one left behind.
        await using var single = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(TestServices.DatabaseConnectionString) { MaxPoolSize = 1 }.ConnectionString);
        var ledger = new LedgerWriter(single, _ledgerKeys, TimeProvider.System, NullLogger<LedgerWriter>.Instance);
        await ledger.StartAsync(CancellationToken.None);
        LedgerEntry Entry(Guid eventId, string controller) => LedgerEntry.OfTheLedger(LedgerKinds.Decision, "blocked") with
        {
            EventId = eventId, EventType = "AbsenceReported", Controller = controller, AgreementId = "a1", Recipient = _duo,
        };

        try
        {
            // A head to chain on, also when the ledger is empty.
            var first = Guid.NewGuid();
            await ledger.AppendAsync([Entry(first, "c")], CancellationToken.None);

            // PostgreSQL refuses NUL in text: the middle entry fails the batch after the ones before it were sent.
            var refused = Enumerable.Range(0, size).Select(_ => Guid.NewGuid()).ToArray();
            await Assert.ThrowsAsync<PostgresException>(() => ledger.AppendAsync([.. refused.Select((id, i) => Entry(id, i == size / 2 ? "c\0" : "c"))], CancellationToken.None));

            var accepted = Enumerable.Range(0, size).Select(_ => Guid.NewGuid()).ToArray();
            await ledger.AppendAsync([.. accepted.Select(id => Entry(id, "c"))], CancellationToken.None);

            // Every accepted entry follows the one before it: the first on the head before the refused batch.
            await using var check = single.CreateCommand("""
                SELECT (SELECT count(*) FROM ledger_entry WHERE event_id = ANY($1)),
                       count(*) FILTER (WHERE e.previous_hash = p.entry_hash AND p.event_id = ANY($3 || $2))
                FROM ledger_entry e JOIN ledger_entry p ON p.seq = e.seq - 1 WHERE e.event_id = ANY($2)
                """);
            check.Parameters.Add(new() { Value = refused });
            check.Parameters.Add(new() { Value = accepted });
            check.Parameters.Add(new() { Value = new[] { first } });
            await using var reader = await check.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(0L, reader.GetInt64(0));
            Assert.Equal((long)size, reader.GetInt64(1));
        }
        finally
        {
            await ledger.StopAsync(CancellationToken.None);
        }
    }
}
