using System.Collections.Frozen;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// A controller in the GDPR's sense: a school, centre or agency that decides about its own processing (each privacy
/// statement in the seeds is one). Read from <c>deploy/config/controllers/&lt;id&gt;.yaml</c>; the format is documented
/// in that folder's README. Its events, agreements, subjects' choices, ledger entries and ops views are its own.
/// </summary>
public sealed record Controller
{
    public required string Id { get; init; }
    public required string LegalName { get; init; }

    /// <summary>One of <see cref="ControllerKinds.All"/>; an agreement's <c>senders</c> may name a kind.</summary>
    public required string Kind { get; init; }

    /// <summary><c>NL</c> or <c>BE-VLG</c>.</summary>
    public required string Jurisdiction { get; init; }

    /// <summary>The ids its events carry in <c>source.institutionId</c>, by scheme (<see cref="InstitutionIdentifiers"/>).</summary>
    public required IReadOnlyList<ControllerIdentifier> Identifiers { get; init; }

    public required DataProtectionOfficer Dpo { get; init; }

    /// <summary>The RabbitMQ users that may publish for it; the intake trusts the broker-checked AMQP <c>user_id</c>.</summary>
    public required IReadOnlyList<string> BrokerUsers { get; init; }

    /// <summary>The agreements it is party to: its events route under these only.</summary>
    public required IReadOnlyList<string> Agreements { get; init; }

    public IReadOnlyList<Processor> Processors { get; init; } = [];
    public IReadOnlyList<JointArrangement> JointControllers { get; init; } = [];

    /// <summary>A controller made up for the demo and the tests, not a real organisation.</summary>
    public bool Synthetic { get; init; }

    public required string SourceFile { get; init; }
    public IReadOnlyDictionary<string, int> Lines { get; init; } = new Dictionary<string, int>();

    public int LineOf(string key) => Lines.TryGetValue(key, out var line) ? line : 1;

    /// <summary>
    /// Whether the institution id is one of its identifiers, exactly as written (one spelling per institution: the
    /// validator refuses a KBO number with dots, so a subject's pseudonyms and the ledger see one sender, not two).
    /// </summary>
    public bool Identifies(string institutionId) =>
        Identifiers.Any(i => string.Equals(i.Value, institutionId, StringComparison.Ordinal));

    /// <summary>Asked for every routed agreement of every event: a set, made on first use (a race makes two equal ones).</summary>
    public bool PartyTo(string agreementId) => (_party ??= Agreements.ToFrozenSet(StringComparer.Ordinal)).Contains(agreementId);

    FrozenSet<string>? _party;
}

/// <summary>One identifier of a controller.</summary>
/// <param name="Scheme">One of <see cref="InstitutionIdentifiers.All"/>.</param>
/// <param name="Value">The id as events carry it, digits and letters only.</param>
/// <param name="Note">Where the value comes from (a seed), or that it is a placeholder.</param>
public sealed record ControllerIdentifier(string Scheme, string Value, string? Note);

/// <summary>The data-protection officer a data subject or a supervisor contacts.</summary>
public sealed record DataProtectionOfficer(string Name, string Email);

/// <summary>A processor working for the controller (GDPR art. 28), with the data-processing agreement's reference.</summary>
public sealed record Processor(string Name, string Role, string Dpa);

/// <summary>A joint-controller arrangement (GDPR art. 26): with whom, about what, and its reference.</summary>
public sealed record JointArrangement(IReadOnlyList<string> With, string Arrangement, string Reference);

/// <summary>The kinds of controller; an agreement's <c>senders</c> may name one to cover every controller of that kind.</summary>
public static class ControllerKinds
{
    public static IReadOnlyList<string> All { get; } =
        ["secondary-school", "primary-school", "adult-education-centre", "care-provider", "course-provider", "integration-agency"];
}

/// <summary>
/// Every configured controller, and the one question the intake asks of it: which controller, if any, may publish this
/// event as this broker user? Built once at start from the linted registry.
/// </summary>
public sealed class ControllerRegistry
{
    readonly FrozenDictionary<string, Controller> _byId;
    readonly FrozenDictionary<string, Controller> _byBrokerUser;

    public ControllerRegistry(IReadOnlyList<Controller> controllers)
    {
        All = controllers;
        _byId = controllers.DistinctBy(c => c.Id).ToFrozenDictionary(c => c.Id, StringComparer.Ordinal);
        _byBrokerUser = controllers.SelectMany(c => c.BrokerUsers.Select(u => (User: u, Controller: c)))
            .DistinctBy(x => x.User).ToFrozenDictionary(x => x.User, x => x.Controller, StringComparer.Ordinal);
    }

    public IReadOnlyList<Controller> All { get; }

    public Controller? ById(string id) => _byId.GetValueOrDefault(id);

    /// <summary>The controller a broker user publishes for, or null.</summary>
    public Controller? ByBrokerUser(string? user) => user is null ? null : _byBrokerUser.GetValueOrDefault(user);

    /// <summary>The controller known by this institution id, or null (each id belongs to one controller; the lint sees to it).</summary>
    public Controller? ByInstitution(string institutionId) => All.FirstOrDefault(c => c.Identifies(institutionId));

    /// <summary>
    /// The controller an event is from, when the broker user that published it (the AMQP <c>user_id</c>, which RabbitMQ
    /// refuses unless it is the connection's own user) publishes for the controller the event's
    /// <c>source.institutionId</c> names. Otherwise null: the sender is not authenticated.
    /// </summary>
    public Controller? Authenticate(string? brokerUser, string? institutionId) =>
        ByBrokerUser(brokerUser) is { } controller && institutionId is not null && controller.Identifies(institutionId) ? controller : null;
}
