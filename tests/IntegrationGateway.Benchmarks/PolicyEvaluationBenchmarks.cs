using System.Text.Json;
using BenchmarkDotNet.Attributes;
using IntegrationGateway.Gateway.Events;
using IntegrationGateway.Gateway.Intake;
using IntegrationGateway.Gateway.Policy;
using IntegrationGateway.Testing;

namespace IntegrationGateway.Benchmarks;

/// <summary>
/// Evaluating events against all shipped agreements: routing, the legal checks and the projection into the bytes
/// that would be sent. One realistic event of every type per round; every routed agreement allows (consent given),
/// the costlier case. Reported per event × agreement: one round makes <see cref="DecisionsPerRound"/> decisions.
/// Target: under 2 µs and 1 KB per event × agreement.
/// </summary>
[MemoryDiagnoser]
// In-process: the project BenchmarkDotNet would generate lacks the shared-framework reference that prunes the
// gateway's package graph, and fails to restore.
[InProcess]
public class PolicyEvaluationBenchmarks
{
    /// <summary>
    /// Allow decisions one round of sample events (one per type) makes against the shipped agreements, each event sent
    /// as the shipped controller its institution names (checked in setup). 20 since controllers: the seed school is not
    /// party to the photographer's agreement, so its consent-based transfer is now denied as controller-not-party.
    /// </summary>
    public const int DecisionsPerRound = 20;

    static readonly DateTimeOffset At = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    // Each recipient's reference for the event, keyed as the gateway keys it: part of every allowed decision's cost.
    static readonly Gateway.Ledger.LedgerKeys Keys = new(new byte[32]);
    static readonly Guid EventId = Guid.Parse("8d7f5c52-1a3e-4d0e-9f55-3c1f6b0a2e11");
    static readonly TransferReferences References = recipient => Keys.TransferReference(EventId, recipient);

    PolicyEngine _engine = null!;
    SubjectState _subject = null!;
    (EventFacts Facts, JsonElement Body)[] _events = [];
    readonly List<JsonDocument> _documents = [];

    [GlobalSetup]
    public void Setup()
    {
        var loaded = AgreementLoader.LoadDirectory(RepoPaths.Agreements);
        if (loaded.Errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, loaded.Errors));
        }

        _engine = new PolicyEngine(loaded.Agreements);
        _subject = new SubjectState
        {
            Consents = loaded.Agreements.Where(a => a.ConsentPurpose is not null).ToDictionary(a => a.ConsentPurpose!, _ => ConsentStatus.Given),
        };
        var generator = new SampleEventGenerator(2026, TimeProvider.System);
        _events = SampleEventGenerator.EventTypes.Select(type =>
        {
            var document = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(generator.Next(type), EventJson.ContractType(type), EventJsonContext.Default));
            _documents.Add(document);
            return (IntegrationGateway.Tests.TestAgreements.ShippedFacts(type, document.RootElement), document.RootElement);
        }).ToArray();

        var decisions = _events.Sum(e => _engine.Evaluate(e.Facts, e.Body, _subject, At, References).Count(d => d.Allowed));
        if (decisions != DecisionsPerRound)
        {
            throw new InvalidOperationException($"a round makes {decisions} allow decisions, not {DecisionsPerRound}: update the constant so the per-decision figures stay true");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _documents.ForEach(d => d.Dispose());

    /// <summary>Per event × agreement: the whole round divided by the decisions it makes.</summary>
    [Benchmark(OperationsPerInvoke = DecisionsPerRound)]
    public int EvaluatePerEventAndAgreement()
    {
        var payloadBytes = 0;
        foreach (var (facts, body) in _events)
        {
            foreach (var decision in _engine.Evaluate(facts, body, _subject, At, References))
            {
                payloadBytes += decision.Payload?.Length ?? 0;
            }
        }

        return payloadBytes;
    }
}
