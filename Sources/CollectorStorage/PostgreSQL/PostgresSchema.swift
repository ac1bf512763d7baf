/// The PostgreSQL store's tables, as numbered migrations: the same tables as ``SQLiteSchema``
/// (times as BIGINT milliseconds, incidents as TEXT JSON).
///
/// Opening a store applies the missing migrations in one transaction that first takes
/// ``migrationLock`` (`pg_advisory_xact_lock`), so collectors starting together against one
/// database create the tables once: the others wait, then find them there. Append migrations;
/// never edit one that has shipped.
enum PostgresSchema {
    /// The advisory lock every collector takes while it migrates ("execwatc" in ASCII).
    static let migrationLock: Int64 = 0x6578_6563_7761_7463

    static let versionTable = """
        CREATE TABLE IF NOT EXISTS schema_version (
            version INTEGER PRIMARY KEY,
            applied_at BIGINT NOT NULL
        )
        """

    static let migrations: [[String]] = [
        // 1: the highest version of every incident, and the agents allowed to send them.
        [
            // COLLATE "C": ids and names sort by their bytes, as in SQLite, whatever the
            // database's locale (hex ids then sort as the numbers they are).
            """
            CREATE TABLE incidents (
                incident_id TEXT COLLATE "C" PRIMARY KEY,
                version BIGINT NOT NULL,
                rule_id TEXT NOT NULL,
                host_name TEXT NOT NULL,
                user_name TEXT,
                proc_name TEXT,
                first_seen BIGINT NOT NULL,
                last_seen BIGINT NOT NULL,
                received_from TEXT NOT NULL,
                received_at BIGINT NOT NULL,
                json TEXT NOT NULL
            )
            """,
            // Pages: newest first, with (last_seen, incident_id) as the keyset.
            "CREATE INDEX incidents_by_last_seen ON incidents (last_seen, incident_id)",
            "CREATE INDEX incidents_by_host ON incidents (host_name, last_seen, incident_id)",
            "CREATE INDEX incidents_by_rule ON incidents (rule_id, last_seen, incident_id)",
            """
            CREATE TABLE agents (
                name TEXT COLLATE "C" PRIMARY KEY,
                token_hash TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                revoked_at BIGINT
            )
            """,
            // A token identifies one agent: no two agents that are not revoked share one.
            "CREATE UNIQUE INDEX agents_by_token ON agents (token_hash) WHERE revoked_at IS NULL",
        ],
        // 2: readers beside agents. The agents table becomes the table of every credential, each
        // with its role; the credentials it held were all agents. (Its token index keeps its name.)
        [
            "ALTER TABLE agents RENAME TO credentials",
            "ALTER TABLE credentials ADD COLUMN role TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'reader'))",
        ],
        // 3: the page sorts by severity and charts incidents by when they were first seen; Sigma
        // rules give incidents an author and a source. Stored incidents keep their severity, read
        // from their JSON text (PostgreSQL's JSON operators refuse an escaped NUL anywhere in it):
        // the first `"severity":` is the incident's own, written before any other object, and a
        // string holding those characters has its quotes escaped. None of them had an author or
        // a source (the collector did not keep them).
        [
            """
            ALTER TABLE incidents ADD COLUMN severity BIGINT NOT NULL DEFAULT 0,
                ADD COLUMN rule_author TEXT, ADD COLUMN rule_source TEXT
            """,
            "UPDATE incidents SET severity = coalesce(substring(json from '\"severity\":(-?[0-9]+)')::int8, 0)",
            "CREATE INDEX incidents_by_severity ON incidents (severity, last_seen, incident_id)",
            "CREATE INDEX incidents_by_first_seen ON incidents (first_seen)",
        ],
    ]

    static var currentVersion: Int { migrations.count }
}
