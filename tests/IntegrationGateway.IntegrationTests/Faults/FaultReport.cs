using System.Globalization;
using System.Text;
using System.Text.Json;

namespace IntegrationGateway.IntegrationTests.Faults;

/// <summary>What one scenario did, per event, as the report's row shows it.</summary>
/// <param name="Scenario">The fault.</param>
/// <param name="Events">Events published (each has two transfers).</param>
/// <param name="Decisions">Decision entries in the ledger for them (one per event × agreement expected).</param>
/// <param name="Receipts">Transfers the agencies recorded (one per event × recipient expected).</param>
/// <param name="DuplicateDeliveries">Deliveries beyond the first of a transfer (same idempotency key; no second effect).</param>
/// <param name="DuplicateEffects">Records an agency kept twice for one transfer (under another key): must be 0.</param>
/// <param name="Lost">Events some recipient never received: must be 0.</param>
/// <param name="Quarantined">Messages in the quarantine at the end.</param>
/// <param name="Parked">Transfers still parked at the end.</param>
/// <param name="RecoverSeconds">From the end of the fault to everything settled.</param>
/// <param name="LedgerVerified"><c>ledger verify</c> passed.</param>
/// <param name="Note">What else was measured.</param>
internal sealed record FaultRow(
    string Scenario, int Events, long Decisions, long Receipts, int DuplicateDeliveries, int DuplicateEffects, int Lost,
    long Quarantined, long Parked, double RecoverSeconds, bool LedgerVerified, string Note);

/// <summary>
/// <c>artifacts/faults/report.md</c>: one row per scenario, rewritten after each (each row also kept as JSON under
/// <c>rows/</c>, so a run of some scenarios updates theirs and keeps the others' with their date).
/// </summary>
internal static class FaultReport
{
    public static string Directory => Path.Combine(RepoPaths.Root, "artifacts", "faults");

    static readonly Lock Gate = new();

    public static void Write(FaultRow row)
    {
        lock (Gate)
        {
            var rows = Path.Combine(Directory, "rows");
            System.IO.Directory.CreateDirectory(rows);
            File.WriteAllText(Path.Combine(rows, row.Scenario + ".json"), JsonSerializer.Serialize(row));
            var all = System.IO.Directory.GetFiles(rows, "*.json")
                .Select(f => (Row: JsonSerializer.Deserialize<FaultRow>(File.ReadAllText(f))!, At: File.GetLastWriteTimeUtc(f)))
                .OrderBy(r => r.At).ToList();
            var text = new StringBuilder()
                .AppendLine("# Fault suite")
                .AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"Written by `deploy/local/faults.sh` (the fault tier of the integration tests); last row {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC. ")
                .AppendLine("Each scenario publishes N fresh `AbsenceReported` events (two transfers each: DUO and the compulsory-education officer) to a gateway process,")
                .AppendLine("injects the fault mid-drain, recovers, and counts per event. Lost and duplicate effects must be 0; a duplicate delivery is the same")
                .AppendLine("idempotency key sent again, which the agency answers as a duplicate. Settings: shipped, except the first parked retry after 2 s and the")
                .AppendLine("scheduler every 1 s. Recover: from the end of the fault until every transfer is received, nothing parked and the queue empty.")
                .AppendLine()
                .AppendLine("| scenario | events | decisions | receipts | dup. deliveries | dup. effects | lost | quarantined | parked | recover (s) | ledger verify | notes |")
                .AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
            foreach (var (r, _) in all)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {r.Scenario} | {r.Events:N0} | {r.Decisions:N0} | {r.Receipts:N0} | {r.DuplicateDeliveries:N0} | {r.DuplicateEffects} | {r.Lost} | {r.Quarantined:N0} | {r.Parked} | {r.RecoverSeconds:0.0} | {(r.LedgerVerified ? "passed" : "FAILED")} | {r.Note} |");
            }

            File.WriteAllText(Path.Combine(Directory, "report.md"), text.ToString());
        }
    }
}
