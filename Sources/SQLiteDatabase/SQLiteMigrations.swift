import SQLiteNIO

#if canImport(Glibc)
import Glibc
#endif

/// A database's tables as numbered migrations, and the runner that brings a database up to date.
///
/// Migration `n` is `migrations[n - 1]`. ``migrate(_:)`` applies the missing ones in order, all in
/// one transaction, and records each in the version table (`version`, and the wall-clock time it
/// was applied in milliseconds, in a column the owner names); a crash mid-way leaves the schema as
/// it was. A database with a version above ``currentVersion`` is refused, never touched.
public struct SQLiteMigrations: Sendable {
    /// The table that records the migrations applied.
    public let versionTable: String
    /// Its column of when each was applied.
    public let appliedAtColumn: String
    public let migrations: [[String]]

    public init(versionTable: String, appliedAtColumn: String, migrations: [[String]]) {
        self.versionTable = versionTable
        self.appliedAtColumn = appliedAtColumn
        self.migrations = migrations
    }

    /// The version a database is at once migrated.
    public var currentVersion: Int { migrations.count }

    /// Applies the missing migrations (see the type's documentation); fails with the owner's
    /// error for ``SQLiteDatabaseError/schemaTooNew(path:version:supported:)`` on a newer database.
    public func migrate(_ session: SQLiteSession) async throws {
        try await session.transaction(doing: "migrate the schema") {
            try await session.rows(
                """
                CREATE TABLE IF NOT EXISTS \(versionTable) (
                    version INTEGER PRIMARY KEY NOT NULL,
                    \(appliedAtColumn) INTEGER NOT NULL
                ) STRICT
                """,
                doing: "create the \(versionTable) table"
            )
            let version = try await appliedVersion(session)
            guard version <= currentVersion else {
                throw session.report(.schemaTooNew(path: session.path, version: version, supported: currentVersion))
            }
            for next in stride(from: version + 1, through: currentVersion, by: 1) {
                for statement in migrations[next - 1] {
                    try await session.rows(statement, doing: "migrate the schema to version \(next)")
                }
                try await session.rows(
                    "INSERT INTO \(versionTable) (version, \(appliedAtColumn)) VALUES (?, ?)",
                    [.integer(next), .integer(Self.nowMilliseconds)],
                    doing: "record schema version \(next)"
                )
            }
        }
    }

    /// The highest migration applied; 0 for a database without the version table. Reads only.
    public func appliedVersion(_ session: SQLiteSession) async throws -> Int {
        let hasTable = try await session.value(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [.text(versionTable)],
            doing: "read the schema version"
        )
        guard hasTable?.integer == 1 else { return 0 }
        let version = try await session.value(
            "SELECT coalesce(max(version), 0) FROM \(versionTable)",
            doing: "read the schema version"
        )
        return version?.integer ?? 0
    }

    private static var nowMilliseconds: Int {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
    }
}
