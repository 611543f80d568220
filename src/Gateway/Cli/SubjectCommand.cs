using System.CommandLine;
using IntegrationGateway.Gateway.Hosting;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Subjects;
using IntegrationGateway.Gateway.Policy;
using Npgsql;

namespace IntegrationGateway.Gateway.Cli;

/// <summary><c>subject report</c>: for one person, every recipient that received their data, when, under which agreement and ground, and which fields.</summary>
internal static class SubjectCommand
{
    public static Command Create()
    {
        var subject = new Command("subject", "Data-subject rights: who received a person's data.");
        var id = new Option<string?>("--id")
        {
            Description = "'-': read the person's BSN or onderwijsnummer (9 digits), or rijksregisternummer or BIS number (11 digits, separators allowed) from standard input. " +
                          "Not the identifier itself: on the command line every local user sees it (ps) and the shell keeps it.",
        };
        var controller = new Option<string?>("--controller") { Description = "Only this controller's transfers (its DPO's answer); without it, every controller's (the platform DPO's)." };
        var institution = new Option<string?>("--institution") { Description = "With --local-id: for a person known to the sender only by its own number." };
        var localId = new Option<string?>("--local-id") { Description = "The sender's own number for the person (with --institution)." };
        var format = new Option<string>("--format") { Description = "md or json.", DefaultValueFactory = _ => "md" };
        format.AcceptOnlyFromAmong("md", "json");
        var report = new Command("report", "Every transfer of the person's data (GDPR art. 15(1)(c)): recipient, date, agreement, legal basis, fields disclosed.")
        {
            id, institution, localId, controller, format,
        };
        report.TreatUnmatchedTokensAsErrors = false;
        report.Validators.Add(r =>
        {
            if ((r.GetValue(id) is null) == (r.GetValue(institution) is null || r.GetValue(localId) is null))
            {
                r.AddError("subject report: give --id, or --institution with --local-id");
            }
            else if (r.GetValue(id) is { } given && given != "-")
            {
                r.AddError("subject report: give --id - and the identifier on standard input (e.g. 'read -rs id && echo \"$id\" | ... subject report --id -'): on the command line every local user sees it, and the shell keeps it");
            }
        });
        report.SetAction((parse, cancellationToken) =>
        {
            var settings = CliSettings.Load(parse.UnmatchedTokens);
            var keys = LedgerKeys.FromBase64(settings.Configuration[LedgerKeys.ConfigurationKey]);
            string? key;
            if (parse.GetValue(id) is not null)
            {
                key = SubjectKey.ForIdentifier(GatewayCli.Input.ReadLine()?.Trim() ?? "");
                if (key is null)
                {
                    parse.InvocationConfiguration.Error.WriteLine("subject report: standard input held no BSN or onderwijsnummer (9 digits), nor a rijksregisternummer or BIS number (11 digits)");
                    return Task.FromResult(ExitCodes.Usage);
                }
            }
            else
            {
                key = SubjectKey.For(null, null, parse.GetValue(institution), parse.GetValue(localId))!;
            }
            if (parse.GetValue(controller) is { } only)
            {
                // A mistyped id would answer "0 transfers", which reads as a complete answer: refuse it instead.
                var (controllers, _) = ControllerLoader.LoadDirectory(ControllersOptions.DirectoryIn(settings.Configuration));
                if (controllers.All(c => c.Id != only))
                {
                    parse.InvocationConfiguration.Error.WriteLine($"no controller '{only}'; known: {string.Join(", ", controllers.Select(c => c.Id))}");
                    return Task.FromResult(ExitCodes.Failed);
                }
            }

            return settings.WithDatabaseAsync(parse, async (database, output) =>
            {
                var pseudonym = keys.PseudonymOf(key);
                var only = parse.GetValue(controller);
                await settings.AuditAsync(database, Ops.OpsAudit.Actions.SubjectReportViewed, "pseudonym " + Convert.ToHexStringLower(pseudonym)[..16],
                    $"{key.Split(':')[0]}; subject report on the command line", only is null ? Ops.OpsScope.All : new Ops.OpsScope([only]), cancellationToken);
                var transfers = await SubjectReport.ForAsync(database, only is null ? null : [only], [pseudonym], cancellationToken);
                await output.WriteAsync(parse.GetValue(format) == "json" ? Json(transfers) : Markdown(transfers));
                return ExitCodes.Ok;
            });
        });
        subject.Subcommands.Add(report);
        return subject;
    }

    // The report as a data-protection officer reads it (markdown) or a program does (JSON): rendering lives here, not in the data.
    static string Markdown(IReadOnlyList<SubjectTransfer> transfers)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("# Who received this person's data").AppendLine()
            .AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"{transfers.Count} transfer(s) to {transfers.Select(t => t.Recipient).Distinct().Count()} recipient(s).").AppendLine()
            .AppendLine("| date (UTC) | controller | sent by | recipient | agreement | legal basis | event | fields disclosed |")
            .AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var t in transfers)
        {
            text.AppendLine(System.Globalization.CultureInfo.InvariantCulture,
                $"| {t.At:yyyy-MM-dd HH:mm} | {t.Controller} | {t.Sender} | {t.Recipient} | `{t.AgreementId}` v{t.AgreementVersion} | {t.LegalBasis.Replace("|", "/", StringComparison.Ordinal)} | {t.EventType} | {string.Join(", ", t.Disclosed)} |");
        }

        return text.ToString();
    }

    static string Json(IReadOnlyList<SubjectTransfer> transfers) =>
        System.Text.Json.JsonSerializer.Serialize(transfers.Select(t => new
        {
            at = t.At, controller = t.Controller, sender = t.Sender, recipient = t.Recipient, agreement = t.AgreementId, agreementVersion = t.AgreementVersion, legalBasis = t.LegalBasis, eventType = t.EventType, disclosed = t.Disclosed,
        }), new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
}
