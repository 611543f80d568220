using IntegrationGateway.Adapters;
using IntegrationGateway.Gateway.Delivery;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Gateway.Storage;
using IntegrationGateway.Gateway.Subjects;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace IntegrationGateway.Tests;

/// <summary>
/// The delivery path put together by hand over whichever stores a test gives it: in-memory ones in the component
/// tier, PostgreSQL in the integration tier. One place that knows the constructors.
/// </summary>
internal sealed class TestGateway
{
    public required ITransferStore Store { get; init; }
    public required IRecipientRoutes Routes { get; init; }
    public required ITransferLedger Ledger { get; init; }
    public required ISubjectRegistry Subjects { get; init; }
    public required ISubjectHistory History { get; init; }
    public required LedgerKeys Keys { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;
    public DeliveryOptions Delivery { get; init; } = new();
    public TransferCounters Counters { get; } = new();

    /// <summary>The controllers a parked transfer is rechecked against: by default the test sender, party to every test agreement.</summary>
    public ControllerRegistry Controllers { get; init; } = new([TestAgreements.Sender]);

    /// <summary>Where the parts log; nowhere unless a test wants to read the lines.</summary>
    public ILoggerFactory Loggers { get; init; } = NullLoggerFactory.Instance;

    /// <summary>A recipient directory holding exactly these adapters, keyed by their recipient ids.</summary>
    public static RecipientAdapters Adapters(params IRecipientAdapter[] adapters)
    {
        var services = new ServiceCollection();
        foreach (var adapter in adapters)
        {
            services.AddRecipient(adapter.Recipient, _ => adapter);
        }

        var provider = services.BuildServiceProvider();
        return new RecipientAdapters(provider, provider.GetServices<RecipientRegistration>());
    }

    public TransferSettler Settler(RecipientAdapters adapters) => new(adapters, Store, Routes, Ledger, Counters, Time, Options.Create(Delivery), new DeliveryLog(Loggers.CreateLogger<TransferSettler>(), Time));

    /// <summary>Which agreement texts count as approved: every one, unless a test says otherwise.</summary>
    public AgreementApprovals Approvals { get; set; } = AgreementApprovals.All();

    public TransferDecisions Decisions(PolicyEngine engine, RecipientAdapters adapters) =>
        new(engine, Controllers, Subjects, new SubjectNotices(engine, History, Keys, Loggers.CreateLogger<SubjectNotices>()), adapters, Approvals, Keys, Time);

    public TransferPipeline Pipeline(PolicyEngine engine, RecipientAdapters adapters) =>
        new(Decisions(engine, adapters), Settler(adapters), Ledger, Keys, Counters, Loggers.CreateLogger<TransferPipeline>());

    public ParkedTransferScheduler Scheduler(PolicyEngine engine, RecipientAdapters adapters) =>
        new(Decisions(engine, adapters), Store, Routes, Settler(adapters), Outage, Time, Options.Create(Delivery), Loggers.CreateLogger<ParkedTransferScheduler>());

    /// <summary>What the handler and the scheduler wait on when the database is away: here it answers at once.</summary>
    public DatabaseOutage Outage { get; init; } = new(() => Task.CompletedTask, () => { }, TimeProvider.System, NullLogger.Instance);
}
