using Npgsql;

namespace IntegrationGateway.Gateway.Storage;

/// <summary>
/// <c>intake_event</c>: one row per event id the intake took, with the keyed hash of its content and when all its
/// transfers were settled. One round trip to see an id (with the subject's state, for an event decided at once); the
/// settle mark commits with the event's ledger entries (<see cref="ITransferLedger.AppendAsync"/>). Rows older than
/// <see cref="Hosting.IntakeOptions.EventMemory"/> are forgotten by the retention service: a republish after that is
/// worked on again, and its recipients still see the same idempotency keys.
/// </summary>
public sealed class IntakeEvents(NpgsqlDataSource dataSource) : IEventRegister
{
    // The insert and the read of an existing row in one statement. A row committed by another gateway after this
    // statement's snapshot is neither inserted nor read: then the statement is run again, and reads it.
    const string SeeSql = """
        WITH inserted AS (
            INSERT INTO intake_event (event_id, controller, content_hmac, first_seen_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (event_id) DO NOTHING RETURNING 1)
        SELECT true, NULL::bytea, NULL::timestamptz FROM inserted
        UNION ALL
        SELECT false, content_hmac, settled_at FROM intake_event WHERE event_id = $1 AND NOT EXISTS (SELECT 1 FROM inserted)
        """;

    public async Task<EventSighting> SeeAsync(Guid eventId, string controller, byte[] contentHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            await using var command = dataSource.CreateCommand(SeeSql);
            AddSeeParameters(command.Parameters, eventId, controller, contentHash, now);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await ReadSightingAsync(reader, contentHash, attempt, cancellationToken) is { } sighting)
            {
                return sighting;
            }
        }
    }

    public async Task<(EventSighting Sighting, Policy.SubjectState Subject)> SeeWithSubjectAsync(
        Guid eventId, string controller, byte[] contentHash, DateTimeOffset now, ISubjectRegistry subjects, byte[][] pseudonyms, CancellationToken cancellationToken)
    {
        if (subjects is not Subjects.SubjectStates || pseudonyms.Length == 0)
        {
            // Another registry (not the table this database holds) is asked itself; no pseudonym, nothing to read.
            return (await SeeAsync(eventId, controller, contentHash, now, cancellationToken), await subjects.ForAsync(controller, pseudonyms, cancellationToken));
        }

        for (var attempt = 0; ; attempt++)
        {
            // Two statements, one round trip (and one implicit transaction): the sighting, then the subject's rows.
            await using var batch = dataSource.CreateBatch();
            var see = new NpgsqlBatchCommand(SeeSql);
            AddSeeParameters(see.Parameters, eventId, controller, contentHash, now);
            var subject = new NpgsqlBatchCommand(Subjects.SubjectStates.StateSql);
            subject.Parameters.Add(new() { Value = controller });
            subject.Parameters.Add(new() { Value = pseudonyms });
            batch.BatchCommands.Add(see);
            batch.BatchCommands.Add(subject);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            var sighting = await ReadSightingAsync(reader, contentHash, attempt, cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            var state = await Subjects.SubjectStates.ReadStateAsync(reader, cancellationToken);
            if (sighting is { } seen)
            {
                return (seen, state);
            }
        }
    }

    static void AddSeeParameters(NpgsqlParameterCollection parameters, Guid eventId, string controller, byte[] contentHash, DateTimeOffset now)
    {
        parameters.Add(new() { Value = eventId });
        parameters.Add(new() { Value = controller });
        parameters.Add(new() { Value = contentHash });
        parameters.Add(new() { Value = now });
    }

    /// <summary>The sighting <see cref="SeeSql"/> returned; null (run it again) when the row was neither inserted nor read.</summary>
    static async Task<EventSighting?> ReadSightingAsync(NpgsqlDataReader reader, byte[] contentHash, int attempt, CancellationToken cancellationToken)
    {
        if (await reader.ReadAsync(cancellationToken))
        {
            if (reader.GetBoolean(0))
            {
                return EventSighting.New;
            }

            var same = System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(reader.GetFieldValue<byte[]>(1), contentHash);
            return !same ? EventSighting.Reused : reader.IsDBNull(2) ? EventSighting.Unsettled : EventSighting.Settled;
        }

        return attempt > 0 ? throw new InvalidOperationException("intake_event: the row neither inserted nor found twice running") : null;
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
