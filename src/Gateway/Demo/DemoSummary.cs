using System.Globalization;
using System.Text;
using IntegrationGateway.Gateway.Delivery;

namespace IntegrationGateway.Gateway.Demo;

internal static class DemoSummary
{
    public static string Render(int published, int held, long quarantined, CountersSnapshot settled, SimulatorView simulator)
    {
        var recordedBySimulator = simulator.Recorded;
        var recipients = settled.Recipients.Concat(recordedBySimulator.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var width = Math.Max(12, recipients.Count == 0 ? 0 : recipients.Max(r => r.Length));
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.AppendLine("Summary").AppendLine(inv, $"  published  {published,6}")
            .AppendLine(inv, $"  settled    {settled.EventsSettled,6}   (events the gateway finished; {settled.EventsUnrouted} routed to no agreement)")
            .AppendLine(inv, $"  subject    {held,6}   (consents and objections: applied to the subject's state; nothing to transfer)")
            .AppendLine(inv, $"  quarantined{quarantined,6}   (refused by the intake; 'quarantine list' says why)")
            .AppendLine()
            .AppendLine(inv, $"  {"recipient".PadRight(width)} {"delivered",9} {"blocked",8} {"parked",7} {"failed",7} {"recorded by simulator",22} {"signed ok",10} {"fields outside allow-list",26} {"off policy schema",18} {"bad signatures",15}");
        foreach (var recipient in recipients)
        {
            recordedBySimulator.TryGetValue(recipient, out var recorded);
            simulator.OutsideAllowList.TryGetValue(recipient, out var outside);
            simulator.InvalidSignatures.TryGetValue(recipient, out var invalid);
            simulator.OffSchema.TryGetValue(recipient, out var offSchema);
            // Every receipt the simulator recorded passed its signature check: it refuses the others.
            text.AppendLine(inv, $"  {recipient.PadRight(width)} {settled.Count(recipient, TransferOutcome.Delivered),9} {settled.Count(recipient, TransferOutcome.Blocked),8} {settled.Count(recipient, TransferOutcome.Parked),7} {settled.Count(recipient, TransferOutcome.Failed),7} {recorded,22} {recorded,10} {outside,26} {offSchema,18} {invalid,15}");
        }

        long Total(TransferOutcome outcome) => recipients.Sum(r => settled.Count(r, outcome));
        text.AppendLine(inv, $"  {"total".PadRight(width)} {Total(TransferOutcome.Delivered),9} {Total(TransferOutcome.Blocked),8} {Total(TransferOutcome.Parked),7} {Total(TransferOutcome.Failed),7} {recordedBySimulator.Values.Sum(),22} {recordedBySimulator.Values.Sum(),10} {simulator.OutsideAllowList.Values.Sum(),26} {simulator.OffSchema.Values.Sum(),18} {simulator.InvalidSignatures.Values.Sum(),15}");
        text.AppendLine()
            .AppendLine(inv, $"  receipts carrying an event's own id {simulator.CarryingEventId,6}   (each recipient gets its own reference for an event instead)")
            .AppendLine(inv, $"  references two recipients share     {simulator.SharedReferences,6}   (so no two recipients can join their records of an event)")
            .AppendLine(inv, $"  duplicate effects                   {simulator.DuplicateEffects,6}   (a transfer a recipient recorded twice: exactly once in effect, whichever gateway sent it)");
        return text.ToString().TrimEnd();
    }

    /// <summary>The ledger's decisions for the run's events, per controller and outcome.</summary>
    public static async Task<IReadOnlyDictionary<(string Controller, string Outcome), long>> PerControllerAsync(Npgsql.NpgsqlDataSource database, Guid[] eventIds, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT controller, outcome, count(*) FROM ledger_entry WHERE kind = 'decision' AND event_id = ANY($1) GROUP BY 1, 2");
        command.Parameters.Add(new() { Value = eventIds });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new Dictionary<(string, string), long>();
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[(reader.GetString(0), reader.GetString(1))] = reader.GetInt64(2);
        }

        return counts;
    }

    /// <summary>Per controller: the broker user it published as, its messages, and its decisions by outcome.</summary>
    public static string RenderPerController(IReadOnlyDictionary<string, int> publishedByUser, IReadOnlyDictionary<(string Controller, string Outcome), long> decisions, Policy.ControllerRegistry controllers)
    {
        var inv = CultureInfo.InvariantCulture;
        var rows = publishedByUser.Select(p => (User: p.Key, Published: p.Value, Controller: controllers.ByBrokerUser(p.Key)?.Id ?? "?")).OrderBy(r => r.Controller, StringComparer.Ordinal).ToList();
        var width = Math.Max(12, rows.Count == 0 ? 0 : rows.Max(r => r.Controller.Length));
        var userWidth = Math.Max(11, rows.Count == 0 ? 0 : rows.Max(r => r.User.Length));
        var text = new StringBuilder().AppendLine("Per controller (each published as its own broker user; decisions from the ledger)")
            .AppendLine(inv, $"  {"controller".PadRight(width)} {"broker user".PadRight(userWidth)} {"messages",8} {"delivered",9} {"blocked",8} {"parked",7} {"other",6}");
        foreach (var row in rows)
        {
            long Of(string outcome) => decisions.GetValueOrDefault((row.Controller, outcome));
            var other = decisions.Where(d => d.Key.Controller == row.Controller && d.Key.Outcome is not ("delivered" or "blocked" or "parked")).Sum(d => d.Value);
            text.AppendLine(inv, $"  {row.Controller.PadRight(width)} {row.User.PadRight(userWidth)} {row.Published,8} {Of("delivered"),9} {Of("blocked"),8} {Of("parked"),7} {other,6}");
        }

        return text.ToString().TrimEnd();
    }
}
