using System.Globalization;
using System.Text;
using System.Text.Json;

namespace IntegrationGateway.Gateway.Policy;

/// <summary>
/// The GDPR art. 30 record of processing, generated from the agreements: per recipient, what goes there, why, on
/// which ground, which identifiers, for how long and where. For data-protection officers. Per controller (art. 30(1)
/// is each controller's own record): its name, identifiers and DPO, its processors and joint controllers, and the
/// agreements it is party to; without one, every agreement (the platform's overview).
/// </summary>
public static class ProcessingRegister
{
    public sealed record Entry(
        string Recipient,
        string Agreement,
        int Version,
        string Title,
        string Jurisdiction,
        IReadOnlyList<string> EventTypes,
        IReadOnlyList<string> OnlyWhen,
        IReadOnlyList<string> Senders,
        IReadOnlyList<string> Purposes,
        string Gdpr,
        string GroundName,
        string Instrument,
        string? Art9Ground,
        IReadOnlyList<string> SpecialCategories,
        string? ConsentPurpose,
        IReadOnlyList<string> DataCategories,
        IReadOnlyList<string> Fields,
        IReadOnlyDictionary<string, string> Identifiers,
        bool ObjectionStops,
        bool OverridesErasure,
        string Retention,
        string TransferRegion,
        string? ValidFrom,
        string? ValidUntil,
        string ReviewBy);

    public static IReadOnlyList<Entry> Build(IEnumerable<Agreement> agreements, EventCatalogue catalogue, Controller? controller = null) =>
        agreements
            .Where(a => controller is null || controller.PartyTo(a.Id))
            .OrderBy(a => a.Recipient, StringComparer.Ordinal).ThenBy(a => a.Id, StringComparer.Ordinal)
            .Select(a =>
            {
                var leaves = a.EventTypes.SelectMany(t => a.Fields.Paths.SelectMany(p => catalogue.LeavesUnder(t, p))).DistinctBy(f => f.Path).ToList();
                return new Entry(
                    a.Recipient, a.Id, a.Version, a.Title, a.Jurisdiction, a.EventTypes, a.When.Select(c => c.ToString()).ToList(), a.Senders, a.Purposes,
                    a.LegalBasis.Gdpr, LegalBasis.Grounds.GetValueOrDefault(a.LegalBasis.Gdpr, "?"), Cite(a.LegalBasis.Instrument), a.LegalBasis.Art9Ground,
                    a.SpecialData(catalogue).Select(d => $"{d.Category} ({d.Field})").Distinct().ToList(),
                    a.ConsentPurpose,
                    leaves.Select(f => f.Category).Distinct().Order(StringComparer.Ordinal).ToList(),
                    a.Fields.Paths.Select(p => a.WholeObjects.TryGetValue(p, out var why) ? $"{p} (whole: {why})" : p).ToList(),
                    a.Identifiers,
                    a.ObjectionStops,
                    a.LegalBasis.OverridesErasure,
                    $"{a.Retention.Duration} from {a.Retention.Trigger}",
                    a.Transfer.InsideEea ? $"{a.Transfer.Region} (EEA)" : $"{a.Transfer.Region}, outside the EEA: {a.Transfer.Safeguard ?? "NO SAFEGUARD NAMED - transfers are denied"}",
                    a.ValidFrom?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    a.ValidUntil?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    a.ReviewBy.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            })
            .ToList();

    /// <summary>The instrument as cited, and when it lacks a part its kind needs, that it is not in force.</summary>
    static string Cite(LegalInstrument instrument) =>
        instrument.Missing is { Count: > 0 } missing
            ? $"{instrument} (NOT IN FORCE: the {instrument.Kind} lacks its {string.Join(" and ", missing)}; transfers are denied)"
            : instrument.ToString();

    public static string ToJson(IReadOnlyList<Entry> entries, DateOnly generatedOn, Controller? controller = null) =>
        JsonSerializer.Serialize(
            new
            {
                generatedOn = generatedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                controller = controller is null ? null : new
                {
                    controller.Id, controller.LegalName, controller.Kind, controller.Jurisdiction,
                    identifiers = controller.Identifiers.Select(i => new { i.Scheme, i.Value, i.Note }),
                    dpo = controller.Dpo, processors = controller.Processors, jointControllers = controller.JointControllers, controller.Synthetic,
                },
                agreements = entries,
            },
            new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull });

    public static string ToMarkdown(IReadOnlyList<Entry> entries, DateOnly generatedOn, Controller? controller = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        if (controller is null)
        {
            md.AppendLine("# Record of processing (GDPR art. 30)").AppendLine()
                .AppendLine(inv, $"Generated on {generatedOn:yyyy-MM-dd} from {entries.Count} data-sharing agreements. Every transfer the gateway makes rests on one of them; what an agreement does not list is never sent.")
                .AppendLine();
        }
        else
        {
            AppendController(md, controller, entries.Count, generatedOn);
        }

        foreach (var recipient in entries.GroupBy(e => e.Recipient))
        {
            md.AppendLine(inv, $"## Recipient `{recipient.Key}`").AppendLine();
            foreach (var e in recipient)
            {
                md.AppendLine(inv, $"### {e.Title}").AppendLine()
                    .AppendLine("| | |").AppendLine("|---|---|")
                    .AppendLine(inv, $"| Agreement | `{e.Agreement}` version {e.Version} |")
                    .AppendLine(inv, $"| Jurisdiction | {e.Jurisdiction} |")
                    .AppendLine(inv, $"| Events | {string.Join(", ", e.EventTypes)} |")
                    .AppendLine(inv, $"| Only when | {(e.OnlyWhen.Count == 0 ? "always" : string.Join(" and ", e.OnlyWhen))} |")
                    .AppendLine(inv, $"| Senders | {(e.Senders.Count == 0 ? $"any controller in {e.Jurisdiction} party to it" : string.Join(", ", e.Senders) + " (controllers or kinds), party to it")} |")
                    .AppendLine(inv, $"| Purposes | {string.Join("; ", e.Purposes)} |")
                    .AppendLine(inv, $"| Legal basis | GDPR art. {e.Gdpr} ({e.GroundName}): {e.Instrument} |")
                    .AppendLine(inv, $"| Special categories | {(e.SpecialCategories.Count == 0 ? "none" : string.Join(", ", e.SpecialCategories) + $" on ground {e.Art9Ground}")} |")
                    .AppendLine(inv, $"| Consent checked | {e.ConsentPurpose ?? "not a consent ground"} |")
                    .AppendLine(inv, $"| Data categories | {string.Join(", ", e.DataCategories)} |")
                    .AppendLine(inv, $"| Fields | {string.Join(", ", e.Fields.Select(f => $"`{f}`"))} |")
                    .AppendLine(inv, $"| National identifiers | {(e.Identifiers.Count == 0 ? "none" : string.Join("; ", e.Identifiers.Select(i => $"{i.Key} under {i.Value}")))} |")
                    .AppendLine(inv, $"| Objection (art. 21) | {(e.ObjectionStops ? "stops transfers" : "does not stop transfers")} |")
                    .AppendLine(inv, $"| Erasure request | {(e.OverridesErasure ? "transfers continue: legal obligation" : "stops transfers")} |")
                    .AppendLine(inv, $"| Retention at recipient | {e.Retention} |")
                    .AppendLine(inv, $"| Transfer region | {e.TransferRegion} |")
                    .AppendLine(inv, $"| Valid | {(e.ValidFrom is null ? "from the start" : "from " + e.ValidFrom)}, {(e.ValidUntil is null ? "open-ended" : "until " + e.ValidUntil)}; review by {e.ReviewBy} |")
                    .AppendLine();
            }
        }

        return md.ToString().TrimEnd() + Environment.NewLine;
    }

    static void AppendController(StringBuilder md, Controller c, int agreements, DateOnly generatedOn)
    {
        var inv = CultureInfo.InvariantCulture;
        md.AppendLine(inv, $"# Record of processing (GDPR art. 30): {c.LegalName}").AppendLine()
            .AppendLine(inv, $"Generated on {generatedOn:yyyy-MM-dd} for controller `{c.Id}` from the controller registry and the {agreements} data-sharing agreement(s) it is party to. Transfers through the gateway rest on these only; what an agreement does not list is never sent.")
            .AppendLine();
        if (c.Synthetic)
        {
            md.AppendLine("> A synthetic controller, for the demo and the tests: not a real organisation.").AppendLine();
        }

        md.AppendLine("| Controller | |").AppendLine("|---|---|")
            .AppendLine(inv, $"| Name | {c.LegalName} |")
            .AppendLine(inv, $"| Kind | {c.Kind} |")
            .AppendLine(inv, $"| Jurisdiction | {c.Jurisdiction} |")
            .AppendLine(inv, $"| Identifiers | {string.Join("; ", c.Identifiers.Select(i => $"{i.Scheme} {i.Value}" + (i.Note is null ? "" : $" ({i.Note})")))} |")
            .AppendLine(inv, $"| Data-protection officer | {c.Dpo.Name}, {c.Dpo.Email} |")
            .AppendLine(inv, $"| Processors (art. 28) | {(c.Processors.Count == 0 ? "none named" : string.Join("; ", c.Processors.Select(p => $"{p.Name}: {p.Role} (agreement: {p.Dpa})")))} |")
            .AppendLine(inv, $"| Joint controllers (art. 26) | {(c.JointControllers.Count == 0 ? "none" : string.Join("; ", c.JointControllers.Select(j => $"with {string.Join(", ", j.With)}: {j.Arrangement} (arrangement: {j.Reference})")))} |")
            .AppendLine();
    }
}
