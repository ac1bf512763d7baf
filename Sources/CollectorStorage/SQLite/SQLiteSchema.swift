/// The SQLite store's tables, as numbered migrations.
///
/// Migration `n` is `migrations[n - 1]`. Opening a store applies the missing ones in order, all in
/// one transaction, and records each in `schema_version (version, applied_at)` (see
/// ``SQLiteCollectorStore/schema``); a crash mid-way leaves the schema as it was. A database with
/// a version above ``currentVersion`` is refused, never touched. Append migrations; never edit one
/// that has shipped. ``PostgresSchema`` keeps the same tables.
enum SQLiteSchema {
    static let migrations: [[String]] = [
        // 1: the highest version of every incident, and the agents allowed to send them.
        [
            """
            CREATE TABLE incidents (
                incident_id TEXT PRIMARY KEY NOT NULL,
                version INTEGER NOT NULL,
                rule_id TEXT NOT NULL,
                host_name TEXT NOT NULL,
                user_name TEXT,
                proc_name TEXT,
                first_seen INTEGER NOT NULL,
                last_seen INTEGER NOT NULL,
                received_from TEXT NOT NULL,
                received_at INTEGER NOT NULL,
                json TEXT NOT NULL
            ) STRICT
            """,
            // Pages: newest first, with (last_seen, incident_id) as the keyset.
            "CREATE INDEX incidents_by_last_seen ON incidents (last_seen, incident_id)",
            "CREATE INDEX incidents_by_host ON incidents (host_name, last_seen, incident_id)",
            "CREATE INDEX incidents_by_rule ON incidents (rule_id, last_seen, incident_id)",
            """
            CREATE TABLE agents (
                name TEXT PRIMARY KEY NOT NULL,
                token_hash TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                revoked_at INTEGER
            ) STRICT
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
        // rules give incidents an author and a source. Stored incidents keep their severity (from
        // their JSON); none of them had an author or a source (the collector did not keep them).
        [
            "ALTER TABLE incidents ADD COLUMN severity INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE incidents ADD COLUMN rule_author TEXT",
            "ALTER TABLE incidents ADD COLUMN rule_source TEXT",
            "UPDATE incidents SET severity = coalesce(json_extract(json, '$.severity'), 0)",
            "CREATE INDEX incidents_by_severity ON incidents (severity, last_seen, incident_id)",
            "CREATE INDEX incidents_by_first_seen ON incidents (first_seen)",
        ],
    ]

    static var currentVersion: Int { migrations.count }
}
