using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace IntegrationGateway.Gateway.Intake;

/// <summary>
/// What the intake did with each message since start: accepted (handed to the pipeline), held (data-subject
/// events), quarantined by rule. Also published as the metrics <c>gateway.intake.accepted</c> and
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
    long _heldCount;

    public IntakeCounters(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _accepted = _meter.CreateCounter<long>("gateway.intake.accepted", "{message}", "Messages the intake accepted (including data-subject events it holds).");
        _quarantined = _meter.CreateCounter<long>("gateway.intake.quarantined", "{message}", "Messages the intake refused and quarantined, by the first rule they broke.");
    }

    public long Accepted => Interlocked.Read(ref _acceptedCount);

    public long Held => Interlocked.Read(ref _heldCount);

    public long Quarantined => _byRule.Values.Sum();

    public IReadOnlyDictionary<string, long> QuarantinedByRule => new SortedDictionary<string, long>(_byRule, StringComparer.Ordinal);

    public void CountAccepted(bool held)
    {
        Interlocked.Increment(ref _acceptedCount);
        if (held)
        {
            Interlocked.Increment(ref _heldCount);
        }

        _accepted.Add(1);
    }

    public void CountQuarantined(string rule)
    {
        _byRule.AddOrUpdate(rule, 1, (_, n) => n + 1);
        _quarantined.Add(1, new KeyValuePair<string, object?>("rule", rule));
    }
}
