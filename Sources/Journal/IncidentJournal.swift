import ExecEvents
import SQLiteDatabase
import SQLiteNIO

#if canImport(Glibc)
import Glibc
#endif

/// The agent's local journal: the latest state of every incident, and the outbox the forwarder
/// sends from. One SQLite database, `<stateDirectory>/agent.db`, in WAL mode.
///
/// What it promises:
/// - **Durable when stored.** ``store(_:)-(IncidentUpdate)`` returns only after its transaction
///   committed with `synchronous=FULL`: from then on the incident survives SIGKILL of the process
///   and loss of power.
/// - **Atomic.** One store is one transaction: the incident row and its outbox row are written
///   together or not at all.
/// - **Owns versions and counts.** Every change stored is the incident's stored version + 1, its
///   count grows by the events the change counted first, whatever the engine remembered (an engine
///   that forgot an incident, or restarted, loses none of its updates).
/// - **One operation at a time, in call order**, each run to its end even if the calling task is
///   cancelled (a transaction is never left half-way on the connection).
/// - **Readable while written.** Other processes may open it ``AccessMode/readOnly`` while the agent
///   writes (WAL: readers see every committed store and never block the writer).
///
/// Call ``close()`` when done: the connection and its thread must be shut down explicitly.
public final class IncidentJournal: Sendable {
    /// How a journal is opened.
    public enum AccessMode: Sendable {
        /// The agent: creates the state directory and the database when missing, applies migrations.
        case readWrite
        /// Tools such as `execwatch incidents`: never creates or changes anything.
        case readOnly
    }

    /// The database file.
    public let path: String
    /// How it was opened; a read-only journal refuses every write.
    public let mode: AccessMode

    /// How long a statement waits for a lock held by another connection before failing.
    static let busyTimeoutMilliseconds = 5000
    /// The connection's page cache, in KiB. The agent appends incidents and looks rows up by key,
    /// which a few dozen pages serve; SQLite's default (2000 KiB) fills only as the journal
    /// grows, over the first hours, and shows as resident memory creeping by 2 MB.
    static let pageCacheKibibytes = 256
    /// The journal's tables, and the table that records which migrations were applied.
    static let schema = SQLiteMigrations(
        versionTable: "schemaVersion",
        appliedAtColumn: "appliedAt",
        migrations: JournalSchema.migrations
    )

    private let database: SQLiteSerialConnection

    private init(database: SQLiteSerialConnection, mode: AccessMode) {
        self.database = database
        self.path = database.path
        self.mode = mode
    }

    /// Opens the journal of a state directory.
    ///
    /// Read-write: creates the directory (0700) and `agent.db` (0600) when missing, switches the
    /// database to WAL, sets `synchronous=FULL` and brings the schema up to date. Read-only: throws
    /// ``JournalError/notFound(path:)`` when there is no journal, and refuses a schema it does not
    /// know. Either way no link is followed and a directory or file that is not safe to use is
    /// refused with a ``StateDirectoryError`` (see ``StateDirectory``); `trustedOwner` is the user
    /// the agent hands its files to, trusted besides this process's effective user.
    public static func open(
        stateDirectory: String,
        mode: AccessMode = .readWrite,
        trustedOwner: uid_t? = nil
    ) async throws -> IncidentJournal {
        let path = JournalFiles.databasePath(inStateDirectory: stateDirectory)
        switch mode {
        case .readWrite: try JournalFiles.prepareForWriting(stateDirectory: stateDirectory, trustedOwner: trustedOwner)
        case .readOnly: try JournalFiles.checkReadable(stateDirectory: stateDirectory)
        }
        let database = try await SQLiteSerialConnection.open(
            path: path,
            uri: JournalFiles.uri(path: path, readOnly: mode == .readOnly),
            report: JournalError.init
        )
        let journal = IncidentJournal(database: database, mode: mode)
        do {
            try await journal.exclusively { session in try await configure(session, mode: mode) }
        } catch {
            try? await journal.close()
            throw error
        }
        return journal
    }

    /// Closes the connection (SQLite checkpoints the WAL when the last connection closes) and stops
    /// the journal's thread. Operations called before run first; later ones throw
    /// ``JournalError/closed(path:)``. Closing twice is harmless.
    public func close() async throws {
        try await database.close()
    }

    /// Runs `operation` when no other operation of this journal runs (first come, first served),
    /// in a task of its own so that cancelling the caller does not stop it half-way.
    func exclusively<T: Sendable>(
        _ operation: @escaping @Sendable (SQLiteSession) async throws -> T
    ) async throws -> T {
        try await database.exclusively(doing: "use the journal", operation)
    }

    /// The first column of the first row of one statement, as text: for tests and diagnostics
    /// (`PRAGMA journal_mode`, `PRAGMA synchronous`, …).
    func firstValue(of sql: String) async throws -> String? {
        try await exclusively { session in try await session.value(sql, doing: sql)?.string }
    }

    /// Fails with ``JournalError/readOnly(path:)`` on a read-only journal.
    func requireWritable() throws {
        guard mode == .readWrite else { throw JournalError.readOnly(path: path) }
    }

    // MARK: - Set-up

    private static func configure(_ session: SQLiteSession, mode: AccessMode) async throws {
        // Replaces sqlite-nio's busy handler (which retries at once, spinning) with SQLite's own
        // sleeping one, bounded.
        try await session.rows("PRAGMA busy_timeout = \(busyTimeoutMilliseconds)", doing: "set busy_timeout")
        try await session.rows("PRAGMA cache_size = -\(pageCacheKibibytes)", doing: "set cache_size")
        switch mode {
        case .readWrite:
            let journalMode = try await session.value("PRAGMA journal_mode = WAL", doing: "set journal_mode")
            guard journalMode?.string?.lowercased() == "wal" else {
                throw JournalError.notWAL(path: session.path, journalMode: journalMode?.string ?? "unknown")
            }
            // FULL: in WAL mode every commit fsyncs the WAL, so a commit survives power loss.
            // (NORMAL would survive only a process crash.) Incidents are rare; the fsync is cheap.
            try await session.rows("PRAGMA synchronous = FULL", doing: "set synchronous")
            // Bounds the WAL file left after a checkpoint.
            try await session.rows("PRAGMA journal_size_limit = 4194304", doing: "set journal_size_limit")
            try await schema.migrate(session)
        case .readOnly:
            let version = try await schema.appliedVersion(session)
            if version > schema.currentVersion {
                throw JournalError.schemaTooNew(path: session.path, version: version, supported: schema.currentVersion)
            }
            if version < schema.currentVersion {
                throw JournalError.schemaMissing(path: session.path, version: version, expected: schema.currentVersion)
            }
        }
    }
}
