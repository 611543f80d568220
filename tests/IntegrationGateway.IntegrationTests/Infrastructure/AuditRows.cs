using Npgsql;

namespace IntegrationGateway.IntegrationTests.Infrastructure;

/// <summary>The staff audit of the tests' database, read as a DPO would scan it.</summary>
internal static class AuditRows
{
    /// <summary>Every row of one action, oldest first, as "actor action target detail".</summary>
    public static async Task<IReadOnlyList<string>> OfAsync(string action)
    {
        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand("SELECT actor || ' ' || action || ' ' || target || ' ' || detail FROM ops_audit WHERE action = $1 ORDER BY id");
        command.Parameters.Add(new() { Value = action });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    /// <summary>How many refused sign-ins of <paramref name="actor"/> the rows stand for: each first one, and the "N more" of each minute.</summary>
    public static int Refusals(IEnumerable<string> refused, string actor) => refused
        .Where(r => r.StartsWith($"{actor} sign-in-refused ", StringComparison.Ordinal))
        .Sum(r => System.Text.RegularExpressions.Regex.Match(r, @" (\d+) more in the minute from ") is { Success: true } more ? int.Parse(more.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 1);
}
