using System.Text.Json;
using System.Text.Json.Nodes;
using IntegrationGateway.Contracts;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Policy;
using Npgsql;

namespace IntegrationGateway.Gateway.Subjects;

/// <summary>
/// The notices a correction or an erasure owes the recipients that had the person's data (GDPR art. 19). Who had
/// what comes from the ledger (delivered transfers, found by any of the subject's pseudonyms); what may go comes
/// from each agreement as it is now. The result is a decision per agreement, which the pipeline delivers, parks and
/// records like any transfer (the idempotency key is the recipient's reference for the notice event and the
/// agreement: a notice redelivered is the same transfer).
/// <list type="bullet">
/// <item><c>PersonalDataRectified</c>: to each agreement under which a changed field was received, the changed
/// fields that were received and that the agreement still allows, with the identifying fields it allows.
/// Recipients that never received a changed field get nothing.</item>
/// <item><c>ErasureRequested</c>: to each agreement under which anything was received, the identifying fields it
/// allows and the date of the request, when the recipient's adapter takes erasure notices; otherwise a
/// <c>notice-not-supported</c> decision is recorded, so the ledger shows who still has to be told. A recipient
/// under an agreement whose legal obligation overrides the erasure is told too: it keeps receiving what that
/// obligation needs, and its own obligation decides what it keeps.</item>
/// </list>
/// Only the controller's own earlier transfers count (another controller tells its own recipients), and only to the
/// recipient that had them.
/// An agreement that no longer exists cannot carry a notice (counted in the log); one that expired records its
/// reason. A recipient that received only data naming no one (no identifying field allowed) gets no notice: it
/// holds nothing to correct or erase about a person.
/// </summary>
public sealed partial class SubjectNotices(PolicyEngine engine, Storage.ISubjectHistory history, LedgerKeys keys, ILogger<SubjectNotices> logger)
{
    const string Rectified = nameof(PersonalDataRectified);
    const string Erasure = nameof(ErasureRequested);

    /// <summary>Fields by which a recipient finds the person in what it holds; each is sent only when the agreement allows it.</summary>
    static readonly string[] IdentifyingFields =
        ["subject.localId", "subject.bsn", "subject.rijksregisternummer", "subject.givenName", "subject.familyName", "subject.birthDate"];

    /// <summary>What every notice carries when the agreement allows it: which event, when, from whom.</summary>
    static readonly string[] HeaderFields = ["eventId", "occurredAt", "jurisdiction", "source.institutionId"];


    /// <summary>
    /// The notice's own fields, sent besides what the agreement allows: the date and (filtered) the names of the
    /// changed fields; the date of an erasure request. Facts about the notice, not values about the person.
    /// </summary>
    public static IReadOnlyList<string> OwnFields(string eventType) => eventType switch
    {
        Rectified => ["rectification.date", "rectification.changedFields"],
        Erasure => ["erasure.requestedOn"],
        _ => [],
    };

    /// <summary>The decisions for one notice event: one per earlier agreement that is owed a notice.</summary>
    public async Task<IReadOnlyList<PolicyDecision>> DecideAsync(
        EventFacts facts, JsonElement body, DateTimeOffset at, Func<string, bool> takesErasureNotices, TransferReferences references, CancellationToken cancellationToken)
    {
        var pseudonyms = keys.Pseudonyms(body);
        if (pseudonyms.Length == 0 || facts.Controller is not { } controller)
        {
            return [];
        }

        // What this controller disclosed to each recipient under each agreement: a controller tells the recipients of its
        // own transfers (another controller's are its own to tell), and only the recipient that had the data.
        var received = new Dictionary<(string Agreement, string Recipient), SortedSet<string>>();
        foreach (var transfer in await history.TransfersAsync(controller.Id, pseudonyms, cancellationToken).ConfigureAwait(false))
        {
            if (!received.TryGetValue((transfer.AgreementId, transfer.Recipient), out var fields))
            {
                received[(transfer.AgreementId, transfer.Recipient)] = fields = new SortedSet<string>(StringComparer.Ordinal);
            }

            fields.UnionWith(transfer.Disclosed);
        }

        var changed = facts.EventType == Rectified ? ChangedFields(body) : [];
        var decisions = new List<PolicyDecision>();
        var gone = 0;
        foreach (var ((agreementId, recipient), fields) in received)
        {
            if (engine.AgreementFor(agreementId, recipient) is not { } agreement)
            {
                gone++; // removed, or now naming another recipient, which never had the data
                continue;
            }

            if (agreement.Jurisdiction != facts.Jurisdiction)
            {
                continue; // another legal order's agreement: the notice is not this sender's to send under it
            }

            var identifying = Allowed(agreement, IdentifyingFields);
            if (identifying.Count == 0)
            {
                continue;
            }

            var header = Allowed(agreement, HeaderFields);
            if (facts.EventType == Erasure)
            {
                var selection = FieldSelection.Parse([.. header, .. identifying, .. OwnFields(Erasure)]);
                decisions.Add(takesErasureNotices(agreement.Recipient)
                    ? engine.DecideNotice(agreement, facts, body, selection, at, references)
                    : new PolicyDecision(agreement, [ReasonCodes.NoticeNotSupported], null) { Fields = selection });
                continue;
            }

            var (sent, named) = Corrections(agreement, fields, changed);
            if (sent.Count == 0)
            {
                continue; // it never received what changed
            }

            using var notice = WithChangedFields(body, named);
            decisions.Add(engine.DecideNotice(
                agreement, facts, notice.RootElement, FieldSelection.Parse([.. header, .. identifying, .. sent, .. OwnFields(Rectified)]), at, references));
        }

        if (gone > 0)
        {
            LogAgreementsGone(facts.EventType, gone);
        }

        return decisions;
    }

    /// <summary>The fields of <paramref name="paths"/> the agreement allows.</summary>
    static List<string> Allowed(Agreement agreement, IEnumerable<string> paths) => [.. paths.Where(p => Allows(agreement, p))];

    static bool Allows(Agreement agreement, string path) => agreement.Fields.Paths.Any(allowed => EventCatalogue.Covers(allowed, path));

    /// <summary>
    /// What a correction under this agreement carries: of the fields received, those a changed field takes in (or the
    /// changed field, when it lies inside one received), as far as the agreement still allows them; and the changed
    /// fields' names that led to something, for the notice to name.
    /// </summary>
    static (List<string> Sent, List<string> Named) Corrections(Agreement agreement, IEnumerable<string> received, IReadOnlyList<string> changed)
    {
        var sent = new SortedSet<string>(StringComparer.Ordinal);
        var named = new List<string>();
        foreach (var field in changed)
        {
            var these = new HashSet<string>(StringComparer.Ordinal);
            foreach (var had in received)
            {
                if (EventCatalogue.Covers(field, had))
                {
                    these.Add(had);
                }
                else if (EventCatalogue.Covers(had, field))
                {
                    these.Add(field);
                }
            }

            these.RemoveWhere(p => !Allows(agreement, p));
            if (these.Count > 0)
            {
                sent.UnionWith(these);
                named.Add(field);
            }
        }

        return ([.. sent], named);
    }

    /// <summary>The changed fields the event names that the contract has; a name it does not have could be anything.</summary>
    static List<string> ChangedFields(JsonElement body)
    {
        var changed = new List<string>();
        if (body.TryGetProperty("rectification", out var rectification) && rectification.TryGetProperty("changedFields", out var fields) && fields.ValueKind == JsonValueKind.Array)
        {
            foreach (var field in fields.EnumerateArray())
            {
                if (field.GetString() is { } path && EventCatalogue.Default.Field(Rectified, path) is not null)
                {
                    changed.Add(path);
                }
            }
        }

        return changed;
    }

    /// <summary>The event with <c>rectification.changedFields</c> narrowed to what this recipient is told of.</summary>
    static JsonDocument WithChangedFields(JsonElement body, IReadOnlyList<string> named)
    {
        var node = JsonNode.Parse(body.GetRawText())!;
        node["rectification"]!["changedFields"] = new JsonArray([.. named.Select(n => (JsonNode)JsonValue.Create(n))]);
        return JsonDocument.Parse(node.ToJsonString());
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{EventType}: {Count} agreement(s) that carried the subject's data are no longer configured; no notice goes under them")]
    partial void LogAgreementsGone(string eventType, int count);
}
