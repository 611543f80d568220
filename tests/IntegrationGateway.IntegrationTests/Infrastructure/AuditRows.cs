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
}
