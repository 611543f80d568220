using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>Reason codes of a deny decision. Fixed: they are written to records and documented for readers.</summary>
public static class ReasonCodes
{
    public const string SenderNotCovered = "sender-not-covered";
    public const string AgreementNotYetValid = "agreement-not-yet-valid";
    public const string AgreementExpired = "agreement-expired";
}

/// <summary>What the engine needs to know about an event besides its body.</summary>
/// <param name="EventType">Contract name, e.g. <c>AbsenceReported</c>.</param>
/// <param name="Jurisdiction"><c>NL</c> or <c>BE-VLG</c>.</param>
/// <param name="InstitutionId">The sender.</param>
public sealed record EventFacts(string EventType, string Jurisdiction, string InstitutionId);

/// <summary>The decision for one agreement that routes the event: allow with the minimised payload, or deny with reasons.</summary>
public sealed record PolicyDecision(Agreement Agreement, IReadOnlyList<string> Reasons, JsonObject? Payload)
{
    public bool Allowed => Payload is not null;
}

/// <summary>
/// Decides, per agreement, whether an event may be transferred and builds the minimised payload. A pure function
/// of (event, agreements, time): no I/O, no clock of its own. Deny by default: an event that no agreement routes
/// gets no decision at all, and therefore no transfer.
/// </summary>
public sealed class PolicyEngine
{
    // Agreement dates are calendar days in the Dutch and Flemish legal orders, which share this zone.
    static readonly TimeZoneInfo LegalTimeZone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");

    readonly FrozenDictionary<string, Agreement[]> _byEventType;

    public PolicyEngine(IReadOnlyList<Agreement> agreements)
    {
        Agreements = agreements;
        _byEventType = agreements
            .SelectMany(a => a.EventTypes.Select(t => (Type: t, Agreement: a)))
            .GroupBy(x => x.Type, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.Select(x => x.Agreement).ToArray(), StringComparer.Ordinal);
    }

    public IReadOnlyList<Agreement> Agreements { get; }

    public IReadOnlyList<PolicyDecision> Evaluate(EventFacts facts, JsonObject body, DateTimeOffset at)
    {
        if (!_byEventType.TryGetValue(facts.EventType, out var candidates))
        {
            return [];
        }

        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, LegalTimeZone).DateTime);
        var decisions = new List<PolicyDecision>(candidates.Length);
        foreach (var agreement in candidates)
        {
            if (!string.Equals(agreement.Jurisdiction, facts.Jurisdiction, StringComparison.Ordinal))
            {
                continue; // another legal order: this agreement does not concern the event
            }

            var reasons = new List<string>(2);
            if (agreement.Senders.Count > 0 && !agreement.Senders.Contains(facts.InstitutionId, StringComparer.Ordinal))
            {
                reasons.Add(ReasonCodes.SenderNotCovered);
            }

            if (today < agreement.ValidFrom)
            {
                reasons.Add(ReasonCodes.AgreementNotYetValid);
            }

            if (today > agreement.ValidUntil)
            {
                reasons.Add(ReasonCodes.AgreementExpired);
            }

            decisions.Add(reasons.Count == 0
                ? new PolicyDecision(agreement, [], agreement.Fields.Project(body))
                : new PolicyDecision(agreement, reasons, null));
        }

        return decisions;
    }
}
