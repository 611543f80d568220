using Npgsql;

namespace IntegrationGateway.IntegrationTests.Infrastructure;

/// <summary>One transfer's decision as the tests' ledger holds it: outcome, reasons, status, receipt, the digest of the bytes sent.</summary>
internal sealed record LedgerDecision(string Outcome, string Reasons, int? StatusCode, string? Receipt, byte[]? PayloadDigest)
{
    /// <summary>The decision of <paramref name="eventId"/> for <paramref name="recipient"/>; fails the test saying so when there is none.</summary>
    public static async Task<LedgerDecision> OfAsync(Guid eventId, string recipient)
    {
        await using var database = NpgsqlDataSource.Create(TestServices.DatabaseConnectionString);
        await using var command = database.CreateCommand(
            "SELECT outcome, array_to_string(reasons, ','), status_code, receipt, payload_sha256 FROM ledger_entry WHERE event_id = $1 AND recipient = $2 AND kind = 'decision'");
        command.Parameters.Add(new() { Value = eventId });
        command.Parameters.Add(new() { Value = recipient });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no decision of event {eventId} for {recipient} in the ledger");
        return new(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[]>(4));
    }
}
