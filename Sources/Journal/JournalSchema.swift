/// The journal's tables, as numbered migrations.
///
/// Migration `n` is `migrations[n - 1]`. Opening a journal read-write applies the missing ones in
/// order, all in one transaction, and records each in `schemaVersion (version, appliedAt)` (see
/// ``IncidentJournal/schema``); a crash mid-way leaves the schema as it was. A journal with a
/// version above ``currentVersion`` is refused, never touched.
/// Append migrations; never edit one that has shipped.
enum JournalSchema {
    static let migrations: [[String]] = [
        // 1: the latest state of every incident, and the forwarder's outbox.
        [
            """
            CREATE TABLE incidents (
                incidentId TEXT PRIMARY KEY NOT NULL,
                ruleId TEXT NOT NULL,
                hostName TEXT NOT NULL,
                firstSeen INTEGER NOT NULL,
                lastSeen INTEGER NOT NULL,
                count INTEGER NOT NULL,
                version INTEGER NOT NULL,
                json TEXT NOT NULL
            ) STRICT
            """,
            "CREATE INDEX incidentsByLastSeen ON incidents (lastSeen)",
            "CREATE INDEX incidentsByRule ON incidents (ruleId, lastSeen)",
            """
            CREATE TABLE outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                incidentId TEXT NOT NULL,
                version INTEGER NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('created', 'updated')),
                json TEXT NOT NULL,
                enqueuedAt INTEGER NOT NULL
            ) STRICT
            """,
        ],
        // 2: outbox rows the collector refused for good, kept instead of deleted.
        [
            """
            CREATE TABLE deadLetters (
                seq INTEGER PRIMARY KEY NOT NULL,
                incidentId TEXT NOT NULL,
                ruleId TEXT NOT NULL,
                version INTEGER NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('created', 'updated')),
                json TEXT NOT NULL,
                enqueuedAt INTEGER NOT NULL,
                status INTEGER NOT NULL,
                reason TEXT NOT NULL,
                refusedAt INTEGER NOT NULL
            ) STRICT
            """,
            "CREATE INDEX deadLettersByRefusedAt ON deadLetters (refusedAt)",
        ],
    ]

    static var currentVersion: Int { migrations.count }
}
