using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>
/// What the intake did with each message since start: accepted (of which some only changed a subject's state:
/// consents and objections, and some were duplicates: settled before, published again), quarantined by rule. Also
/// published as the metrics <c>gateway.intake.accepted</c>, <c>gateway.intake.duplicates</c> and
/// <c>gateway.intake.quarantined</c> (tag <c>rule</c>) on the meter <see cref="MeterName"/>.
/// </summary>
public sealed class IntakeCounters
{
    public const string MeterName = "IntegrationGateway.Intake";

    readonly Meter _meter;
    readonly Counter<long> _accepted;
    readonly Counter<long> _quarantined;
    readonly ConcurrentDictionary<string, long> _byRule = new(StringComparer.Ordinal);
    long _acceptedCount;
    long _stateOnlyCount;
    long _duplicateCount;
    readonly Counter<long> _duplicates;

    public IntakeCounters(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _accepted = _meter.CreateCounter<long>("gateway.intake.accepted", "{message}", "Messages the intake accepted (including data-subject events that only change a subject's state).");
        _duplicates = _meter.CreateCounter<long>("gateway.intake.duplicates", "{message}", "Events published again after they were settled: acknowledged, nothing sent again (also counted as accepted).");
        _quarantined = _meter.CreateCounter<long>("gateway.intake.quarantined", "{message}", "Messages the intake refused and quarantined, by the first rule they broke.");
    }

    public long Accepted => Interlocked.Read(ref _acceptedCount);

    /// <summary>Accepted consents and objections: applied to the subject's state, nothing transferred.</summary>
    public long SubjectStateOnly => Interlocked.Read(ref _stateOnlyCount);

    /// <summary>Accepted events that were settled before: published again, nothing done again.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicateCount);

    public long Quarantined => _byRule.Values.Sum();

    public IReadOnlyDictionary<string, long> QuarantinedByRule => new SortedDictionary<string, long>(_byRule, StringComparer.Ordinal);

    public void CountAccepted(bool subjectStateOnly)
    {
        Interlocked.Increment(ref _acceptedCount);
        if (subjectStateOnly)
        {
            Interlocked.Increment(ref _stateOnlyCount);
        }

        _accepted.Add(1);
    }

    public void CountDuplicate()
    {
        Interlocked.Increment(ref _duplicateCount);
        _duplicates.Add(1);
        CountAccepted(subjectStateOnly: false);
    }

    public void CountQuarantined(string rule)
    {
        _byRule.AddOrUpdate(rule, 1, (_, n) => n + 1);
        _quarantined.Add(1, new KeyValuePair<string, object?>("rule", rule));
    }
}
