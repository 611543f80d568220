namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// The static checks an agreement must pass before the gateway runs on it (and <c>policy lint</c> reports).
/// Each error names file, line and rule. Rules:
/// <list type="bullet">
/// <item><c>unknown-event-type</c>: an event type that is not a contract.</item>
/// <item><c>unknown-field</c>: a field path that none of the routed event types has.</item>
/// <item><c>national-identifier</c>: a BSN/PGN or rijksregisternummer in the allow-list without an instrument permitting it.</item>
/// <item><c>special-category</c>: a special-category field (GDPR art. 9) without an art. 9(2) ground.</item>
/// <item><c>consent-purpose</c>: a consent ground without the consent purpose to check.</item>
/// <item><c>erasure-override</c>: overriding erasure on a ground other than a legal obligation.</item>
/// <item><c>sender-scope</c>: a national identifier or special-category data with no <c>senders</c>: such an agreement names
/// the controllers (or kinds) it is made for, so a controller's file cannot make itself party to it alone.</item>
/// </list>
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
            foreach (var identifier in leaves.Where(f => f.NationalIdentifier is not null).Select(f => f.NationalIdentifier!).Distinct())
            {
                if (!agreement.Identifiers.ContainsKey(identifier))
                {
                    yield return Error(key, "national-identifier",
                        $"'{path}' carries the {identifier}, but 'identifiers' names no legal instrument permitting it for this recipient");
                }
            }

            foreach (var special in leaves.Where(f => f.SpecialCategory is not null))
            {
                if (agreement.LegalBasis.Art9Ground is null)
                {
                    yield return Error(key, "special-category",
                        $"'{path}' carries special-category data ({special.SpecialCategory}: {special.Path}); legalBasis.art9Ground must name the GDPR art. 9(2) ground");
                }
            }
        }

        var sensitive = routed.SelectMany(t => agreement.Fields.Paths.SelectMany(p => catalogue.LeavesUnder(t, p)))
            .FirstOrDefault(f => f.NationalIdentifier is not null || f.SpecialCategory is not null);
        if (sensitive is not null && agreement.Senders.Count == 0)
        {
            yield return Error("fields", "sender-scope",
                $"'{sensitive.Path}' is {(sensitive.NationalIdentifier is not null ? "a national identifier" : "special-category data")}; 'senders' must name the controllers or controller kinds the agreement is made for");
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

        if (agreement.LegalBasis.OverridesErasure && agreement.LegalBasis.Gdpr != LegalBasis.LegalObligation)
        {
            yield return Error("legalBasis", "erasure-override", $"only a legal obligation ({LegalBasis.LegalObligation}) can continue after an erasure request, not {agreement.LegalBasis.Gdpr}");
        }
    }
}
