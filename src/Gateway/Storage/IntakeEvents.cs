using Npgsql;

namespace IntegrationGateway.Gateway.Storage;

/// <summary>
/// <c>intake_event</c>: one row per event id the intake took, with the keyed hash of its content and when all its
/// transfers were settled. One round trip to see an id, one to mark it settled. Rows older than
/// <see cref="Hosting.IntakeOptions.EventMemory"/> are forgotten by the retention service: a republish after that is
/// worked on again, and its recipients still see the same idempotency keys.
/// </summary>
public sealed class IntakeEvents(NpgsqlDataSource dataSource) : IEventRegister
{
    public async Task<EventSighting> SeeAsync(Guid eventId, string controller, byte[] contentHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The insert and the read of an existing row in one statement. A row committed by another gateway after this
        // statement's snapshot is neither inserted nor read: then the statement is run again, and reads it.
        const string sql = """
            WITH inserted AS (
                INSERT INTO intake_event (event_id, controller, content_hmac, first_seen_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (event_id) DO NOTHING RETURNING 1)
            SELECT true, NULL::bytea, NULL::timestamptz FROM inserted
            UNION ALL
            SELECT false, content_hmac, settled_at FROM intake_event WHERE event_id = $1 AND NOT EXISTS (SELECT 1 FROM inserted)
            """;
        for (var attempt = 0; ; attempt++)
        {
            await using var command = dataSource.CreateCommand(sql);
            command.Parameters.Add(new() { Value = eventId });
            command.Parameters.Add(new() { Value = controller });
            command.Parameters.Add(new() { Value = contentHash });
            command.Parameters.Add(new() { Value = now });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                if (reader.GetBoolean(0))
                {
                    return EventSighting.New;
                }

                var same = System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(reader.GetFieldValue<byte[]>(1), contentHash);
                return !same ? EventSighting.Reused : reader.IsDBNull(2) ? EventSighting.Unsettled : EventSighting.Settled;
            }

            if (attempt > 0)
            {
                throw new InvalidOperationException("intake_event: the row neither inserted nor found twice running");
            }
        }
    }

    public async Task SettledAsync(Guid eventId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("UPDATE intake_event SET settled_at = $2 WHERE event_id = $1 AND settled_at IS NULL");
        command.Parameters.Add(new() { Value = eventId });
        command.Parameters.Add(new() { Value = now });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Forgets the ids first seen before <paramref name="before"/>; returns how many.</summary>
    public static async Task<int> ForgetAsync(NpgsqlDataSource dataSource, DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM intake_event WHERE first_seen_at < $1");
        command.Parameters.Add(new() { Value = before });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
