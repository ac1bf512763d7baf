import ExecEvents
import Logging
import SQLiteDatabase
import SQLiteNIO

/// The collector's store in one SQLite database file (WAL), for a collector on one machine.
///
/// - **Durable when stored**: `synchronous=FULL`, so every committed batch is in the fsync'ed WAL
///   before ``upsert(_:)`` returns. The collector acknowledges a batch to its agent after that,
///   and the agent then forgets it; with `NORMAL` a power loss could take back acknowledged
///   batches. The cost is one fsync per commit (a batch or several), not per incident.
/// - **One writer**: every write goes through one connection, one transaction at a time
///   (`BEGIN IMMEDIATE`, so another process writing the same file waits its turn up to
///   ``busyTimeoutMilliseconds``). Callers encode their batches in parallel before they queue;
///   batches that queue together are committed together (``SQLiteUpsertQueue``).
/// - **Reads beside writes**: queries use a second, read-only connection; WAL lets them see
///   every committed batch without waiting for the writer.
///
/// The database file and its `-wal`/`-shm` files are 0600.
///
/// Throughput (release build, 2-core VM shared with other work, 4 callers sending batches of 100,
/// 50,000 incidents of ~900 bytes of JSON): about 10,000 new incidents/s and 6,000–7,500
/// updated ones/s; with 200,000 incidents, about 8,900 and 5,700/s.
final class SQLiteCollectorStore: CollectorStore {
    /// The database file.
    let path: String
    /// How long a statement waits for a lock held by another connection before it fails.
    static let busyTimeoutMilliseconds = 10_000
    /// The store's tables, and the table that records which migrations were applied.
    static let schema = SQLiteMigrations(
        versionTable: "schema_version",
        appliedAtColumn: "applied_at",
        migrations: SQLiteSchema.migrations
    )

    let writer: SQLiteSerialConnection
    let reader: SQLiteSerialConnection
    let upserts: SQLiteUpsertQueue

    private init(path: String, writer: SQLiteSerialConnection, reader: SQLiteSerialConnection) {
        self.path = path
        self.writer = writer
        self.reader = reader
        self.upserts = SQLiteUpsertQueue(writer: writer)
    }

    /// Opens (creating when missing) the database at `path`, in WAL mode, with its schema up to date.
    static func open(path: String, logger: Logger) async throws -> SQLiteCollectorStore {
        try SQLiteDatabaseFile.prepare(path)
        // Each connection has a thread of its own: SQLite's blocking calls (the fsync at every
        // commit) never hold up the threads that serve HTTP.
        var opened: [SQLiteSerialConnection] = []
        do {
            let writer = try await connect(path: path, logger: logger)
            opened.append(writer)
            try await writer.exclusively(doing: "set up \(path)") { session in
                try await configureWriter(session)
                try await schema.migrate(session)
            }
            let reader = try await connect(path: path, logger: logger)
            opened.append(reader)
            try await reader.exclusively(doing: "set up \(path)") { session in
                try await session.rows("PRAGMA busy_timeout = \(busyTimeoutMilliseconds)", doing: "set busy_timeout")
                try await session.rows("PRAGMA query_only = ON", doing: "set query_only")
            }
            logger.info("collector storage opened", metadata: ["storage": "sqlite", "path": "\(path)"])
            return SQLiteCollectorStore(path: path, writer: writer, reader: reader)
        } catch {
            for connection in opened { try? await connection.close() }
            if let error = error as? CollectorStoreError, case .unusableLocation = error { throw error }
            throw CollectorStoreError.unusableLocation(path, reason: "\(error)")
        }
    }

    /// Closes both connections (SQLite checkpoints the WAL when the last one closes) once the
    /// operations called before have run, and stops their threads. Closing twice is harmless.
    func close() async throws {
        var failure: (any Error)?
        do { try await reader.close() } catch { failure = error }
        do { try await writer.close() } catch { failure = failure ?? error }
        if let failure { throw failure }
    }

    private static func connect(path: String, logger: Logger) async throws -> SQLiteSerialConnection {
        do {
            return try await SQLiteSerialConnection.open(
                path: path,
                uri: SQLiteDatabaseFile.uri(path: path),
                logger: logger,
                report: CollectorStoreError.init(sqlite:)
            )
        } catch {
            throw CollectorStoreError.unusableLocation(path, reason: "cannot open: \(error)")
        }
    }

    private static func configureWriter(_ session: SQLiteSession) async throws {
        // Replaces sqlite-nio's busy handler (which retries at once, spinning) with SQLite's own
        // sleeping one, bounded.
        try await session.rows("PRAGMA busy_timeout = \(busyTimeoutMilliseconds)", doing: "set busy_timeout")
        let journalMode = try await session.value("PRAGMA journal_mode = WAL", doing: "set journal_mode")
        guard journalMode?.string?.lowercased() == "wal" else {
            throw CollectorStoreError.unusableLocation(
                session.path,
                reason: "journal_mode is \(journalMode?.string ?? "unknown"), not wal"
            )
        }
        // FULL: see the type's documentation.
        try await session.rows("PRAGMA synchronous = FULL", doing: "set synchronous")
        // Checkpoints every 10,000 WAL pages (40 MB at 4 KB pages) instead of 1,000: a page that
        // several batches change is copied into the database once, and the writer stops for a
        // checkpoint ten times less often. The WAL file is cut back to 64 MB after one.
        try await session.rows("PRAGMA wal_autocheckpoint = 10000", doing: "set wal_autocheckpoint")
        try await session.rows("PRAGMA journal_size_limit = 67108864", doing: "set journal_size_limit")
        // 64 MB of page cache: index pages stay in memory instead of being read again per batch.
        try await session.rows("PRAGMA cache_size = -65536", doing: "set cache_size")
        // Temporary data (sorting, statement journals) in memory, never in files in /tmp.
        try await session.rows("PRAGMA temp_store = MEMORY", doing: "set temp_store")
    }
}

extension CollectorStoreError {
    /// The collector's words for a failure of its SQLite database.
    init(sqlite failure: SQLiteDatabaseError) {
        switch failure {
        case .statement(let path, let operation, let error):
            if let error = error as? CollectorStoreError {
                self = error
            } else {
                let full = (error as? SQLiteError)?.reason == .full
                self = .database(
                    operation: operation,
                    reason: "SQLite \(path): \(error)",
                    cause: full ? .full : .other
                )
            }
        case .unreadableRow(let path, let reason):
            self = .unreadableRow(reason: "SQLite \(path): \(reason)")
        case .closed(let path, let operation):
            self = .database(operation: operation, reason: "SQLite \(path): the store is closed")
        case .schemaTooNew(let path, let version, let supported):
            self = .unusableLocation(
                path,
                reason: "schema version \(version) was written by a newer execwatch-collector "
                    + "(this one knows up to \(supported))"
            )
        }
    }
}
