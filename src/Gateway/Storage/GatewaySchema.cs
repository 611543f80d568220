using Npgsql;

namespace IntegrationGateway.Gateway.Storage;

/// <summary>
/// The gateway's tables, created and migrated at start, in order, each version once (recorded in
/// <c>gateway_schema</c>), under an advisory lock so two gateways starting together do not race.
/// </summary>
public static class GatewaySchema
{
    /// <summary>The migrations, oldest first. Append; never edit one that has shipped.</summary>
    static readonly (int Version, string Description, string Sql)[] Migrations =
    [
        (1, "parked transfers and recipient routes", """
            CREATE TABLE parked_transfer (
                idempotency_key  text PRIMARY KEY,
                event_id         uuid NOT NULL,
                event_type       text NOT NULL,
                agreement_id     text NOT NULL,
                recipient        text NOT NULL,
                payload_sealed   bytea NOT NULL,
                sealed_with      text NOT NULL,
                lease_id         uuid,
                state            text NOT NULL CHECK (state IN ('waiting', 'rejected', 'recipient-disabled')),
                attempts         integer NOT NULL,
                next_attempt_at  timestamptz NOT NULL,
                parked_at        timestamptz NOT NULL,
                last_status      integer,
                last_problem     text
            );
            CREATE INDEX parked_transfer_due ON parked_transfer (next_attempt_at) WHERE state = 'waiting';
            CREATE TABLE recipient_route (
                recipient    text PRIMARY KEY,
                disabled_at  timestamptz,
                reason       text
            );
            """),
        (2, "the transfer ledger", """
            CREATE TABLE ledger_entry (
                seq                bigint PRIMARY KEY,
                recorded_at        timestamptz NOT NULL,
                kind               text NOT NULL,
                event_id           uuid NOT NULL,
                event_type         text NOT NULL,
                sender             text NOT NULL,
                agreement_id       text NOT NULL,
                agreement_version  integer NOT NULL,
                recipient          text NOT NULL,
                legal_basis        text NOT NULL,
                outcome            text NOT NULL,
                reasons            text[] NOT NULL,
                disclosed          text[] NOT NULL,
                withheld           text[] NOT NULL,
                payload_sha256     bytea,
                idempotency_key    text,
                attempts           integer NOT NULL,
                status_code        integer,
                receipt            text,
                trace_id           text,
                subject_pseudonym  bytea NOT NULL,
                previous_hash      bytea NOT NULL,
                entry_hash         bytea NOT NULL
            );
            CREATE INDEX ledger_entry_subject ON ledger_entry (subject_pseudonym);
            CREATE INDEX ledger_entry_event ON ledger_entry (event_id);
            -- What a later outcome's ledger entry repeats from the decision.
            ALTER TABLE parked_transfer
                ADD COLUMN sender text NOT NULL DEFAULT '',
                ADD COLUMN agreement_version integer NOT NULL DEFAULT 0,
                ADD COLUMN legal_basis text NOT NULL DEFAULT '',
                ADD COLUMN subject_pseudonym bytea NOT NULL DEFAULT ''::bytea;
            """),
        (3, "what data subjects have said, by pseudonym", """
            CREATE TABLE subject_state (
                pseudonym   bytea PRIMARY KEY,
                consents    jsonb NOT NULL DEFAULT '{}'::jsonb,
                objected    boolean NOT NULL DEFAULT false,
                erased      boolean NOT NULL DEFAULT false,
                updated_at  timestamptz NOT NULL
            );
            """),
        (4, "every pseudonym of an entry's subject; one decision per event and agreement", """
            -- An event may name its subject by BSN or rijksregisternummer and by the sender's own number: each gets a
            -- pseudonym, so a report or a notice finds the person by any of them.
            ALTER TABLE ledger_entry ADD COLUMN subject_pseudonyms bytea[] NOT NULL DEFAULT '{}';
            UPDATE ledger_entry SET subject_pseudonyms = ARRAY[subject_pseudonym] WHERE octet_length(subject_pseudonym) > 0;
            CREATE INDEX ledger_entry_subjects ON ledger_entry USING gin (subject_pseudonyms);
            ALTER TABLE parked_transfer ADD COLUMN subject_pseudonyms bytea[] NOT NULL DEFAULT '{}';
            UPDATE parked_transfer SET subject_pseudonyms = ARRAY[subject_pseudonym] WHERE octet_length(subject_pseudonym) > 0;
            -- A redelivered message records its later outcome, not a second decision. Entries written before this
            -- version may hold such doubles; they are part of the chain and stay, so the rule starts after them.
            DO $$ BEGIN
                EXECUTE format('CREATE UNIQUE INDEX ledger_entry_one_decision ON ledger_entry (event_id, agreement_id) WHERE kind = %L AND seq > %s',
                               'decision', (SELECT coalesce(max(seq), 0) FROM ledger_entry));
            END $$;
            """),
        (5, "ledger retention: purge records", """
            -- A purge blanks entries past their retention, keeping their place in the chain, and appends one entry
            -- naming them and a digest of their hashes, so the chain still verifies across them.
            ALTER TABLE ledger_entry ADD COLUMN purged_ranges text[], ADD COLUMN purged_digest bytea;
            CREATE INDEX ledger_entry_recorded ON ledger_entry (recorded_at) WHERE kind IN ('decision', 'outcome');
            """),
        (6, "ops app: who did what; how long each delivery took", """
            -- Who viewed a subject report, replayed a transfer or changed a route, and when: names of staff, pseudonyms
            -- and keys, never a person's identifier.
            CREATE TABLE ops_audit (
                id      bigserial PRIMARY KEY,
                at      timestamptz NOT NULL,
                actor   text NOT NULL,
                action  text NOT NULL,
                target  text NOT NULL,
                detail  text NOT NULL DEFAULT ''
            );
            CREATE INDEX ops_audit_at ON ops_audit (at);
            ALTER TABLE ledger_entry ADD COLUMN duration_ms integer;
            CREATE INDEX ledger_entry_transfer ON ledger_entry (event_id, agreement_id);
            """),
        (7, "ops app: the keys of sign-in cookies and form tokens, sealed", """
            CREATE TABLE ops_key (
                name        text PRIMARY KEY,
                xml         text NOT NULL,
                created_at  timestamptz NOT NULL
            );
            """),
    ];

    public static int LatestVersion => Migrations[^1].Version;

    /// <summary>Applies what is missing; returns the versions applied now.</summary>
    public static async Task<IReadOnlyList<int>> MigrateAsync(NpgsqlDataSource dataSource, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(
            "SELECT pg_advisory_xact_lock(7352001); CREATE TABLE IF NOT EXISTS gateway_schema (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL);",
            connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var applied = new HashSet<int>();
        await using (var command = new NpgsqlCommand("SELECT version FROM gateway_schema", connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetInt32(0));
            }
        }

        if (applied.Count > 0 && applied.Max() > LatestVersion)
        {
            // An older gateway would write rows the newer schema reads differently (e.g. without every pseudonym).
            throw new InvalidOperationException(
                $"The database schema is at version {applied.Max()}, newer than this gateway's ({LatestVersion}): a newer gateway migrated it. Run that version; stop every older one before an upgrade.");
        }

        var now = new List<int>();
        foreach (var (version, description, sql) in Migrations.Where(m => !applied.Contains(m.Version)))
        {
            await using (var command = new NpgsqlCommand(sql, connection, transaction))
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var record = new NpgsqlCommand("INSERT INTO gateway_schema (version, description, applied_at) VALUES ($1, $2, $3)", connection, transaction))
            {
                record.Parameters.Add(new() { Value = version });
                record.Parameters.Add(new() { Value = description });
                record.Parameters.Add(new() { Value = time.GetUtcNow() });
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            now.Add(version);
        }

        await transaction.CommitAsync(cancellationToken);
        return now;
    }
}

/// <summary>Migrates the schema before anything else starts: the intake must not consume before it can park.</summary>
internal sealed partial class SchemaMigration(NpgsqlDataSource dataSource, TimeProvider time, ILogger<SchemaMigration> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var applied = await GatewaySchema.MigrateAsync(dataSource, time, cancellationToken);
        LogMigrated(GatewaySchema.LatestVersion, applied.Count == 0 ? "none" : string.Join(", ", applied));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema at version {Version} (applied now: {Applied})")]
    partial void LogMigrated(int version, string applied);
}
