namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// The static checks an agreement must pass before the gateway runs on it (and <c>policy lint</c> reports).
/// Each error names file, line and rule. Rules:
/// <list type="bullet">
/// <item><c>unknown-event-type</c>: an event type that is not a contract.</item>
/// <item><c>unknown-field</c>: a field path that none of the routed event types has.</item>
/// <item><c>national-identifier</c>: a BSN/PGN or rijksregisternummer in the allow-list without an instrument permitting it.</item>
/// <item><c>whole-object</c>: a path that names an object, without <c>{ path, whole: true, reason }</c> (or that mark on a value).</item>
/// <item><c>special-category</c>: special-category data (GDPR art. 9) the agreement can disclose, by field, by a value its
/// <c>when</c> does not rule out, or as free text, without an art. 9(2) ground.</item>
/// <item><c>free-text</c>: free text without <c>{ path, freeText: true, reason }</c> (or that mark on a field that holds none).</item>
/// <item><c>consent-purpose</c>: a consent ground without the consent purpose to check.</item>
/// <item><c>erasure-override</c>: overriding erasure on a ground other than a legal obligation.</item>
/// <item><c>sender-scope</c>: a national identifier or special-category data with no <c>senders</c>: such an agreement names
/// the controllers (or kinds) it is made for, so a controller's file cannot make itself party to it alone.</item>
/// </list>
/// <see cref="InForce"/> adds <c>instrument</c> (an instrument without its kind's parts) and <c>review-overdue</c>.
/// The loader adds the structural ones: <c>duplicate-id</c>, <c>validity-window</c> (from after until), <c>unknown-key</c>,
/// <c>required</c>, <c>legal-basis</c>, <c>retention</c>, <c>transfer</c>, <c>field-path</c>, <c>yaml</c>.
/// </summary>
public static class AgreementLinter
{
    /// <summary>Reads every agreement file in the folder and lints what could be read: everything the gateway checks at start.</summary>
    public static (IReadOnlyList<Agreement> Agreements, IReadOnlyList<AgreementError> Errors) LoadAndLint(string directory, EventCatalogue catalogue)
    {
        var loaded = AgreementLoader.LoadDirectory(directory);
        return (loaded.Agreements, loaded.Errors.Concat(Lint(loaded.Agreements, catalogue)).ToList());
    }

    /// <summary>How long before <c>reviewBy</c> an agreement is reported as due for review.</summary>
    public const int ReviewNoticeDays = 30;

    /// <summary>The lint rule, and the review state, of an agreement past its <c>reviewBy</c>.</summary>
    public const string ReviewOverdue = ReasonCodes.ReviewOverdue;

    /// <summary>The notice, and the review state, of an agreement within <see cref="ReviewNoticeDays"/> days of its <c>reviewBy</c>.</summary>
    public const string ReviewDue = "review-due";

    /// <summary>
    /// Where an agreement stands with its review on <paramref name="today"/>: <see cref="ReviewOverdue"/> after its
    /// <c>reviewBy</c> (its transfers are held, <see cref="ReasonCodes.ReviewOverdue"/>), <see cref="ReviewDue"/> within
    /// <see cref="ReviewNoticeDays"/> days of it, null otherwise. The lint, the ops page, the watcher's log and gauge and
    /// the hold all read it here.
    /// </summary>
    public static string? ReviewState(Agreement agreement, DateOnly today) =>
        today > agreement.ReviewBy ? ReviewOverdue
        : agreement.ReviewBy.DayNumber - today.DayNumber < ReviewNoticeDays ? ReviewDue
        : null;

    /// <summary>
    /// What keeps a well-formed agreement from being in force, which <c>policy lint</c> and the ops agreements page report
    /// and the running gateway does not refuse to start over: an instrument without the parts its kind needs
    /// (<c>instrument</c>; its transfers are denied, <c>instrument-incomplete</c>), and a review past its
    /// <c>reviewBy</c> on <paramref name="today"/> (<c>review-overdue</c>). Reviews due within <see cref="ReviewNoticeDays"/>
    /// days are added to <paramref name="notices"/> (<c>review-due</c>).
    /// </summary>
    public static IReadOnlyList<AgreementError> InForce(IEnumerable<Agreement> agreements, DateOnly today, List<AgreementError>? notices = null)
    {
        var findings = new List<AgreementError>();
        foreach (var agreement in agreements.OrderBy(a => a.ReviewBy))
        {
            var instrument = agreement.LegalBasis.Instrument;
            if (instrument.Missing is { Count: > 0 } missing)
            {
                findings.Add(new(agreement.SourceFile, agreement.LineOf("legalBasis"), "instrument",
                    $"the {instrument.Kind} '{instrument.Citation}' needs its {string.Join(" and ", missing)}: without {(missing.Count == 1 ? "it" : "them")} nobody can find what the transfer rests on, so its transfers are denied (instrument-incomplete)"));
            }

            var review = ReviewState(agreement, today);
            if (review == ReviewOverdue)
            {
                findings.Add(new(agreement.SourceFile, agreement.LineOf("reviewBy"), ReviewOverdue,
                    $"the review was due by {agreement.ReviewBy:yyyy-MM-dd}, {today.DayNumber - agreement.ReviewBy.DayNumber} day(s) ago: review it and set the next reviewBy"));
            }
            else if (review == ReviewDue)
            {
                notices?.Add(new(agreement.SourceFile, agreement.LineOf("reviewBy"), ReviewDue,
                    $"due for review by {agreement.ReviewBy:yyyy-MM-dd}, in {agreement.ReviewBy.DayNumber - today.DayNumber} day(s)"));
            }
        }

        return findings;
    }

    public static IReadOnlyList<AgreementError> Lint(IEnumerable<Agreement> agreements, EventCatalogue catalogue)
    {
        var errors = new List<AgreementError>();
        foreach (var agreement in agreements)
        {
            errors.AddRange(Lint(agreement, catalogue));
        }

        return errors;
    }

    public static IEnumerable<AgreementError> Lint(Agreement agreement, EventCatalogue catalogue)
    {
        AgreementError Error(string key, string rule, string message) => new(agreement.SourceFile, agreement.LineOf(key), rule, message);

        var routed = agreement.EventTypes.Where(catalogue.Knows).ToList();
        foreach (var type in agreement.EventTypes.Where(t => !catalogue.Knows(t)))
        {
            yield return Error("eventTypes", "unknown-event-type", $"'{type}' is not an event contract; known: {string.Join(", ", catalogue.Types.Keys.Order(StringComparer.Ordinal))}");
        }

        for (var i = 0; i < agreement.Fields.Paths.Count; i++)
        {
            var path = agreement.Fields.Paths[i];
            var key = $"fields[{i}]";
            var known = routed.Any(t => catalogue.Field(t, path) is not null || catalogue.Field(t, path + "[]") is not null);
            if (!known && routed.Count > 0)
            {
                yield return Error(key, "unknown-field", $"'{path}' is not a field of {string.Join(" or ", routed)}");
                continue;
            }

            var leaves = routed.SelectMany(t => catalogue.LeavesUnder(t, path)).DistinctBy(f => f.Path).ToList();
            var isObject = routed.Any(t => (catalogue.Field(t, path) ?? catalogue.Field(t, path + "[]")) is { IsLeaf: false });
            if (isObject && !agreement.WholeObjects.ContainsKey(path))
            {
                yield return Error(key, "whole-object",
                    $"'{path}' is a whole object ({string.Join(", ", leaves.Select(f => f.Path).Take(8))}{(leaves.Count > 8 ? ", ..." : "")}): list the leaves the purpose needs, or write {{ path: {path}, whole: true, reason: WHY }} to admit every member its contract declares, also those it declares later");
            }
            else if (!isObject && agreement.WholeObjects.ContainsKey(path))
            {
                yield return Error(key, "whole-object", $"'{path}' is a value, not an object: list it by its path alone");
            }

            foreach (var identifier in leaves.Where(f => f.NationalIdentifier is not null).Select(f => f.NationalIdentifier!).Distinct())
            {
                if (!agreement.Identifiers.ContainsKey(identifier))
                {
                    yield return Error(key, "national-identifier",
                        $"'{path}' carries the {identifier}, but 'identifiers' names no legal instrument permitting it for this recipient");
                }
            }

            foreach (var text in leaves.Where(f => f.FreeText && !agreement.FreeText.ContainsKey(path)))
            {
                yield return Error(key, "free-text",
                    $"'{text.Path}' is free text, which may say anything: it leaves only where the agreement says so, {{ path: {path}, freeText: true, reason: WHY }}, on an art. 9(2) ground");
            }

            if (agreement.FreeText.ContainsKey(path) && !leaves.Any(f => f.FreeText))
            {
                yield return Error(key, "free-text", $"'{path}' holds no free text: list it by its path alone");
            }
        }

        var special = agreement.SpecialData(catalogue).ToList();
        if (agreement.LegalBasis.Art9Ground is null)
        {
            foreach (var disclosure in special)
            {
                yield return Error($"fields[{disclosure.Index}]", "special-category",
                    $"'{disclosure.Entry}' can disclose special-category data ({disclosure.What}); legalBasis.art9Ground must name the GDPR art. 9(2) ground, or the agreement must not list it");
            }
        }

        var national = routed.SelectMany(t => agreement.Fields.Paths.SelectMany(p => catalogue.LeavesUnder(t, p))).FirstOrDefault(f => f.NationalIdentifier is not null);
        if ((national is not null || special.Count > 0) && agreement.Senders.Count == 0)
        {
            yield return Error("fields", "sender-scope",
                $"'{national?.Path ?? special[0].Field}' is {(national is not null ? "a national identifier" : "special-category data")}; 'senders' must name the controllers or controller kinds the agreement is made for");
        }

        for (var i = 0; i < agreement.When.Count; i++)
        {
            var path = agreement.When[i].Path;
            // A value can be compared; anything (an object, a list by its name) can be required present.
            var present = agreement.When[i] is { EqualsValue: null, YoungerThanYears: null };
            if (routed.Count > 0 && !routed.All(t => catalogue.Field(t, path) is { IsLeaf: true } || (present && (catalogue.Field(t, path) ?? catalogue.Field(t, path + "[]")) is not null)))
            {
                yield return Error($"when[{i}]", "unknown-field", $"condition on '{path}', which is not a field of every routed event type ({string.Join(", ", routed)}), or not a value to compare");
            }
        }

        if (agreement.IsConsentBased && string.IsNullOrWhiteSpace(agreement.ConsentPurpose))
        {
            yield return Error("legalBasis", "consent-purpose", "the ground is consent, but 'consentPurpose' does not say which consent to check");
        }

        if ((agreement.LegalBasis.Instrument.Kind == "consent") != agreement.IsConsentBased)
        {
            yield return Error("legalBasis", "instrument", agreement.IsConsentBased
                ? "a consent ground rests on the subject's consent: instrument.kind is consent, citing the form it is given on"
                : $"instrument.kind consent goes with a consent ground ({LegalBasis.Consent} or {LegalBasis.ExplicitConsent}), not {agreement.LegalBasis.Gdpr}");
        }

        if (agreement.LegalBasis.OverridesErasure && agreement.LegalBasis.Gdpr != LegalBasis.LegalObligation)
        {
            yield return Error("legalBasis", "erasure-override", $"only a legal obligation ({LegalBasis.LegalObligation}) can continue after an erasure request, not {agreement.LegalBasis.Gdpr}");
        }
    }
}
