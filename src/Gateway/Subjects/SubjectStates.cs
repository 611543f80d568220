using System.Text.Json;
using IntegrationGateway.Gateway.Ledger;
using IntegrationGateway.Gateway.Policy;
using Npgsql;

namespace IntegrationGateway.Gateway.Subjects;

/// <summary>
/// What data subjects have said (consents given or withdrawn per purpose, objections, erasure requests), from
/// <c>ConsentChanged</c>, <c>ObjectionLodged</c> and <c>ErasureRequested</c>, stored per controller (the one that sent
/// the event: each controller decides about its own processing) under the subject's pseudonyms (one per key the event
/// names them by: BSN, rijksregisternummer, sender and local id), never an identifier. The policy engine reads it for
/// every event, for that event's controller, merged over every key the event names, toward stopping. The pseudonyms
/// are the same for every controller, so a platform DPO can still find one person across controllers.
/// </summary>
public sealed class SubjectStates(NpgsqlDataSource dataSource, LedgerKeys keys) : Storage.ISubjectRegistry
{
    /// <summary>Applies a data-subject event; a consent change only when it is not older than what is stored for that purpose.</summary>
    public async Task ApplyAsync(string controller, string eventType, JsonElement body, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var pseudonyms = keys.Pseudonyms(body);
        foreach (var pseudonym in pseudonyms)
        {
            await using var command = eventType switch
            {
                nameof(Contracts.ConsentChanged) => Consent(body),
                nameof(Contracts.ObjectionLodged) => dataSource.CreateCommand(
                    "INSERT INTO subject_state (pseudonym, objected, updated_at, controller) VALUES ($1, true, $2, $3) ON CONFLICT (controller, pseudonym) DO UPDATE SET objected = true, updated_at = $2"),
                nameof(Contracts.ErasureRequested) => dataSource.CreateCommand(
                    "INSERT INTO subject_state (pseudonym, erased, updated_at, controller) VALUES ($1, true, $2, $3) ON CONFLICT (controller, pseudonym) DO UPDATE SET erased = true, updated_at = $2"),
                _ => throw new ArgumentException($"{eventType} does not change a subject's state", nameof(eventType)),
            };
            command.Parameters.Insert(0, new() { Value = pseudonym });
            command.Parameters.Insert(1, new() { Value = now });
            command.Parameters.Insert(2, new() { Value = controller });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    NpgsqlCommand Consent(JsonElement body)
    {
        var consent = body.GetProperty("consent");
        // A change counts as of when it happened, but never later than when the intake first took it (its sighting;
        // the time of this attempt, $2, if there is none): a consent dated in the future (the intake allows a day of
        // clock skew) would otherwise outrank the withdrawal sent after it, and a redelivery would date it later each time.
        var command = dataSource.CreateCommand("""
            WITH change AS (
                SELECT jsonb_build_object('status', $5::text, 'at', LEAST($6::timestamptz, coalesce((SELECT first_seen_at FROM intake_event WHERE event_id = $7), $2))) AS entry)
            INSERT INTO subject_state (pseudonym, consents, updated_at, controller)
                SELECT $1, jsonb_build_object($4::text, change.entry), $2, $3 FROM change
            ON CONFLICT (controller, pseudonym) DO UPDATE SET
                consents = CASE WHEN subject_state.consents -> $4::text IS NULL
                                  OR (subject_state.consents -> $4::text ->> 'at')::timestamptz < (EXCLUDED.consents -> $4::text ->> 'at')::timestamptz
                                  OR ((subject_state.consents -> $4::text ->> 'at')::timestamptz = (EXCLUDED.consents -> $4::text ->> 'at')::timestamptz AND $5::text = 'withdrawn')
                                THEN subject_state.consents || jsonb_build_object($4::text, EXCLUDED.consents -> $4::text)
                                ELSE subject_state.consents END,
                updated_at = $2
            """);
        var purpose = consent.GetProperty("purpose").GetString()!;
        if (purpose.Any(char.IsControl) || purpose.Length > 200)
        {
            throw new ArgumentException("a consent purpose must be a short name without control characters");
        }

        command.Parameters.Add(new() { Value = purpose });
        // Anything but "given" counts as withdrawn: doubt stops transfers.
        command.Parameters.Add(new() { Value = consent.GetProperty("status").GetString() == "given" ? "given" : "withdrawn" });
        // PostgreSQL takes UTC only; an offset such as +02:00 is valid input.
        command.Parameters.Add(new() { Value = body.GetProperty("occurredAt").GetDateTimeOffset().ToUniversalTime() });
        command.Parameters.Add(new() { Value = body.GetProperty("eventId").GetGuid() });
        return command;
    }

    /// <summary>
    /// The subject known by these pseudonyms (an event's, or a parked transfer's) to <paramref name="controller"/>:
    /// unknown unless something was said to it under one of them; merged toward stopping.
    /// </summary>
    public async Task<SubjectState> ForAsync(string controller, byte[][] pseudonyms, CancellationToken cancellationToken)
    {
        if (pseudonyms.Length == 0)
        {
            return SubjectState.Unknown;
        }

        await using var command = dataSource.CreateCommand(StateSql);
        command.Parameters.Add(new() { Value = controller });
        command.Parameters.Add(new() { Value = pseudonyms });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadStateAsync(reader, cancellationToken);
    }

    /// <summary>The subject's rows at a controller ($1) under any of the pseudonyms ($2).</summary>
    internal const string StateSql = "SELECT consents::text, objected, erased FROM subject_state WHERE controller = $1 AND pseudonym = ANY($2)";

    /// <summary>The rows <see cref="StateSql"/> returns, merged toward stopping.</summary>
    internal static async Task<SubjectState> ReadStateAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var consents = new Dictionary<string, ConsentStatus>(StringComparer.Ordinal);
        bool known = false, objected = false, erased = false;
        while (await reader.ReadAsync(cancellationToken))
        {
            known = true;
            objected |= reader.GetBoolean(1);
            erased |= reader.GetBoolean(2);
            using var stored = JsonDocument.Parse(reader.GetString(0));
            foreach (var purpose in stored.RootElement.EnumerateObject())
            {
                var status = purpose.Value.GetProperty("status").GetString() == "given" ? ConsentStatus.Given : ConsentStatus.Withdrawn;
                // Merged toward stopping: a withdrawal under any key beats a consent under another.
                consents[purpose.Name] = consents.TryGetValue(purpose.Name, out var earlier) && earlier == ConsentStatus.Withdrawn ? earlier : status;
            }
        }

        return known ? new SubjectState { Consents = consents, Objected = objected, Erased = erased } : SubjectState.Unknown;
    }
}
