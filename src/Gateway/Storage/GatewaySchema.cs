using Npgsql;

namespace IntegrationGateway.Gateway.Storage;

/// <summary>
/// The gateway's tables, created and migrated at start, in order, each version once (recorded in
/// <c>gateway_schema</c>), under an advisory lock so two gateways starting together do not race.
/// </summary>
public static class GatewaySchema
{
    /// <summary>
    /// The migrations, oldest first. Append; never edit one that has shipped. Nothing has shipped yet: the pre-release
    /// chain (versions 1 to 8) was squashed into version 9, which made every row name its controller, and a database
    /// made by that chain is refused with how to recreate it, rather than carried along (its rows name no controller).
    /// From version 9 on, each migration is kept as written.
    /// </summary>
    static readonly (int Version, string Description, string Sql)[] Migrations =
    [
        (9, "the gateway's schema, every row naming its controller", """
            -- Transfers that could not be delivered now; the payload sealed, the decision's context repeated.
            CREATE TABLE parked_transfer (
                idempotency_key     text PRIMARY KEY,
                event_id            uuid NOT NULL,
                event_type          text NOT NULL,
                agreement_id        text NOT NULL,
                recipient           text NOT NULL,
                payload_sealed      bytea NOT NULL,
                sealed_with         text NOT NULL,
                lease_id            uuid,
                state               text NOT NULL CHECK (state IN ('waiting', 'rejected', 'recipient-disabled')),
                attempts            integer NOT NULL,
                next_attempt_at     timestamptz NOT NULL,
                parked_at           timestamptz NOT NULL,
                last_status         integer,
                last_problem        text,
                sender              text NOT NULL,
                agreement_version   integer NOT NULL,
                legal_basis         text NOT NULL,
                subject_pseudonyms  bytea[] NOT NULL,
                controller          text NOT NULL
            );
            CREATE INDEX parked_transfer_controller ON parked_transfer (controller);
            CREATE INDEX parked_transfer_due ON parked_transfer (next_attempt_at) WHERE state = 'waiting';
            CREATE TABLE recipient_route (
                recipient    text PRIMARY KEY,
                disabled_at  timestamptz,
                reason       text
            );
            -- The transfer ledger: chained, keyed hashes; field names and pseudonyms, never a value. A purge blanks
            -- entries past their retention, keeping their place, and appends one entry naming them (purged_*).
            CREATE TABLE ledger_entry (
                seq                 bigint PRIMARY KEY,
                recorded_at         timestamptz NOT NULL,
                kind                text NOT NULL,
                event_id            uuid NOT NULL,
                event_type          text NOT NULL,
                controller          text NOT NULL,
                sender              text NOT NULL,
                agreement_id        text NOT NULL,
                agreement_version   integer NOT NULL,
                recipient           text NOT NULL,
                legal_basis         text NOT NULL,
                outcome             text NOT NULL,
                reasons             text[] NOT NULL,
                disclosed           text[] NOT NULL,
                withheld            text[] NOT NULL,
                payload_sha256      bytea,
                idempotency_key     text,
                attempts            integer NOT NULL,
                status_code         integer,
                receipt             text,
                trace_id            text,
                -- One per key the event names its subject by (BSN or rijksregisternummer, the sender's own number).
                subject_pseudonyms  bytea[] NOT NULL,
                purged_ranges       text[],
                purged_digest       bytea,
                duration_ms         integer,
                previous_hash       bytea NOT NULL,
                entry_hash          bytea NOT NULL
            );
            CREATE INDEX ledger_entry_event ON ledger_entry (event_id);
            CREATE INDEX ledger_entry_subjects ON ledger_entry USING gin (subject_pseudonyms);
            CREATE INDEX ledger_entry_recorded ON ledger_entry (recorded_at) WHERE kind IN ('decision', 'outcome');
            CREATE INDEX ledger_entry_transfer ON ledger_entry (event_id, agreement_id);
            CREATE INDEX ledger_entry_controller ON ledger_entry (controller, recorded_at);
            -- A redelivered message records its later outcome, not a second decision.
            CREATE UNIQUE INDEX ledger_entry_one_decision ON ledger_entry (event_id, agreement_id) WHERE kind = 'decision';
            -- What data subjects have said, to which controller, by pseudonym: each controller decides about its own
            -- processing, so a consent, objection or erasure at one controller decides that controller's transfers only.
            CREATE TABLE subject_state (
                controller  text NOT NULL,
                pseudonym   bytea NOT NULL,
                consents    jsonb NOT NULL DEFAULT '{}'::jsonb,
                objected    boolean NOT NULL DEFAULT false,
                erased      boolean NOT NULL DEFAULT false,
                updated_at  timestamptz NOT NULL,
                PRIMARY KEY (controller, pseudonym)
            );
            -- The ops app: who viewed a subject report, replayed a transfer or changed a route (staff names,
            -- pseudonyms and keys, never a person's identifier); the sealed keys of its cookies and form tokens.
            CREATE TABLE ops_audit (
                id      bigserial PRIMARY KEY,
                at      timestamptz NOT NULL,
                actor   text NOT NULL,
                action  text NOT NULL,
                target  text NOT NULL,
                detail  text NOT NULL DEFAULT '',
                -- Whose staff may read the row: the controllers in the actor's view; NULL, the platform's staff only.
                controllers  text[]
            );
            CREATE INDEX ops_audit_at ON ops_audit (at);
            CREATE TABLE ops_key (
                name        text PRIMARY KEY,
                xml         text NOT NULL,
                created_at  timestamptz NOT NULL
            );
            """),
        (10, "the intake's memory of event ids; gateway instances and the leases they hold", """
            -- Every event id the intake took: a keyed hash of its content (never the content) and when its transfers
            -- were all settled, so a republished event is not sent again and a reused id with other content is caught.
            CREATE TABLE intake_event (
                event_id       uuid PRIMARY KEY,
                controller     text NOT NULL,
                content_hmac   bytea NOT NULL,
                first_seen_at  timestamptz NOT NULL,
                settled_at     timestamptz
            );
            CREATE INDEX intake_event_seen ON intake_event (first_seen_at);
            -- The gateways running now, one row per start; alive while a session of its own holds the advisory lock
            -- (7352003, lock_key): a process killed with -9 loses its session, and the lock, at once, so another
            -- gateway takes over its leases in seconds, not after the lease. last_seen_at (the database's clock) is
            -- stamped each scheduler round: a gateway whose session broke a moment ago (a database restart) keeps
            -- its leases for a grace period while it reconnects.
            CREATE TABLE gateway_instance (
                id            uuid PRIMARY KEY,
                host          text NOT NULL,
                lock_key      integer NOT NULL CHECK (lock_key > 0),
                started_at    timestamptz NOT NULL,
                last_seen_at  timestamptz NOT NULL
            );
            ALTER TABLE parked_transfer ADD COLUMN lease_owner uuid;
            CREATE INDEX parked_transfer_leased ON parked_transfer (lease_owner) WHERE lease_owner IS NOT NULL;
            """),
        (11, "one index fewer to keep up on every ledger row", """
            -- ledger_entry_transfer (event_id, agreement_id) answers every lookup by event id too.
            DROP INDEX IF EXISTS ledger_entry_event;
            """),
        (12, "the staff audit chained and keyed like the ledger", """
            -- Each row names the one before by its hash, keyed with a key derived from Ledger:Key (never stored here):
            -- a row changed, deleted or inserted with SQL alone breaks the chain ('audit verify'). Rows written before
            -- this version have no hash; the chain starts after them.
            ALTER TABLE ops_audit ADD COLUMN seq bigint UNIQUE, ADD COLUMN previous_hash bytea, ADD COLUMN entry_hash bytea;
            -- The ops app's audit page filters by action and actor, newest first.
            CREATE INDEX ops_audit_action ON ops_audit (action, id DESC);
            """),
        (13, "the ops app's second factor: the last TOTP step and the recovery codes each user signed in with", """
            -- A TOTP code opens one sign-in: a later step than the last accepted one only (no replay, here or on another gateway).
            CREATE TABLE ops_second_factor_step (
                user_name  text PRIMARY KEY,
                last_step  bigint NOT NULL
            );
            -- A recovery code opens one sign-in: the hashes of those used.
            CREATE TABLE ops_second_factor_recovery (
                user_name  text NOT NULL,
                code_hash  text NOT NULL,
                used_at    timestamptz NOT NULL,
                PRIMARY KEY (user_name, code_hash)
            );
            """),
        (14, "wrong second-factor codes counted per user", """
            -- Three codes open a sign-in at any moment: after a few wrong ones a user's codes are refused for a while,
            -- from every address and on every gateway, so they cannot be guessed from many addresses.
            CREATE TABLE ops_second_factor_failure (
                user_name         text PRIMARY KEY,
                failures          integer NOT NULL,
                first_failed_at   timestamptz NOT NULL
            );
            """),
        (15, "agreements as approved contracts: every version loaded, by its hash, until a DPO approves it", """
            -- Every agreement text the gateway has loaded, named by the hash of its canonical content: which text was in
            -- force when is the approved versions in order of approval. A version not approved holds its transfers.
            CREATE TABLE agreement_version (
                agreement_id     text NOT NULL,
                hash             text NOT NULL,
                version          integer NOT NULL,
                content          text NOT NULL,
                first_loaded_at  timestamptz NOT NULL,
                approved_by      text,
                approved_at      timestamptz,
                PRIMARY KEY (agreement_id, hash)
            );
            ALTER TABLE ledger_entry ADD COLUMN agreement_hash text;
            ALTER TABLE parked_transfer DROP CONSTRAINT IF EXISTS parked_transfer_state_check;
            ALTER TABLE parked_transfer ADD CONSTRAINT parked_transfer_state_check
                CHECK (state IN ('waiting', 'rejected', 'recipient-disabled', 'awaiting-approval'));
            """),
        (16, "parked transfers found by event and agreement: their key holds the recipient's reference, not the event id", """
            CREATE INDEX parked_transfer_transfer ON parked_transfer (event_id, agreement_id);
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

        if (applied.Count > 0 && applied.Max() < Migrations[0].Version)
        {
            throw new InvalidOperationException(
                $"The database was made by a pre-release schema (version {applied.Max()}), which this gateway does not migrate. Recreate it: " +
                "locally 'deploy/local/down.sh && rm -rf .local/postgres && deploy/local/up.sh' (the ledger, parked transfers and subject state go with it).");
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
