import ExecEvents
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
/// - **Highest version wins.** A store carrying a version the journal already has (or a lower one)
///   changes nothing and enqueues nothing, so retrying a store is harmless.
/// - **One operation at a time, in call order**, each run to its end even if the calling task is
///   cancelled (a transaction is never left half-way on the connection).
/// - **Readable while written.** Other processes may open it ``AccessMode/readOnly`` while the agent
///   writes (WAL: readers see every committed store and never block the writer).
///
/// Call ``close()`` when done: the connection and its thread must be shut down explicitly.
public actor IncidentJournal {
    /// How a journal is opened.
    public enum AccessMode: Sendable {
        /// The agent: creates the state directory and the database when missing, applies migrations.
        case readWrite
        /// Tools such as `execwatch incidents`: never creates or changes anything.
        case readOnly
    }

    /// The database file.
    public nonisolated let path: String
    /// How it was opened; a read-only journal refuses every write.
    public nonisolated let mode: AccessMode

    /// How long a statement waits for a lock held by another connection before failing.
    static let busyTimeoutMilliseconds = 5000

    private let database: JournalConnection
    private let threadPool: NIOThreadPool
    private var isClosed = false
    private var operationRunning = false
    private var waitingOperations: [CheckedContinuation<Void, Never>] = []

    private init(database: JournalConnection, threadPool: NIOThreadPool, mode: AccessMode) {
        self.database = database
        self.threadPool = threadPool
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
        // A thread of its own: SQLite's blocking calls (fsync at every commit) never hold up a
        // thread that other parts of the agent need.
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(
                storage: .file(path: JournalFiles.uri(path: path, readOnly: mode == .readOnly)),
                threadPool: threadPool,
                on: MultiThreadedEventLoopGroup.singleton.any()
            )
        } catch {
            try? await threadPool.shutdownGracefully()
            if let error = error as? SQLiteError {
                throw JournalError.sqlite(path: path, operation: "open", error: error)
            }
            throw error
        }
        let journal = IncidentJournal(
            database: JournalConnection(connection: connection, path: path),
            threadPool: threadPool,
            mode: mode
        )
        do {
            try await journal.exclusively { database in try await configure(database, mode: mode) }
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
        await waitForTurn()
        defer { endTurn() }
        guard !isClosed else { return }
        isClosed = true
        let connection = database.connection
        try await Task { try await connection.close() }.value
        try await threadPool.shutdownGracefully()
    }

    /// Runs `operation` when no other operation of this journal runs (first come, first served),
    /// in a task of its own so that cancelling the caller does not stop it half-way.
    func exclusively<T: Sendable>(
        _ operation: @escaping @Sendable (JournalConnection) async throws -> T
    ) async throws -> T {
        await waitForTurn()
        defer { endTurn() }
        guard !isClosed else { throw JournalError.closed(path: path) }
        let database = self.database
        return try await Task { try await operation(database) }.value
    }

    private func waitForTurn() async {
        if operationRunning {
            // The operation that ends hands its turn over (operationRunning stays true).
            await withCheckedContinuation { waitingOperations.append($0) }
        } else {
            operationRunning = true
        }
    }

    private func endTurn() {
        if waitingOperations.isEmpty {
            operationRunning = false
        } else {
            waitingOperations.removeFirst().resume()
        }
    }

    /// The first column of the first row of one statement, as text: for tests and diagnostics
    /// (`PRAGMA journal_mode`, `PRAGMA synchronous`, …).
    func firstValue(of sql: String) async throws -> String? {
        try await exclusively { database in try await database.value(sql, doing: sql)?.string }
    }

    /// Fails with ``JournalError/readOnly(path:)`` on a read-only journal.
    func requireWritable() throws {
        guard mode == .readWrite else { throw JournalError.readOnly(path: path) }
    }

    // MARK: - Set-up

    private static func configure(_ database: JournalConnection, mode: AccessMode) async throws {
        // Replaces sqlite-nio's busy handler (which retries at once, spinning) with SQLite's own
        // sleeping one, bounded.
        try await database.rows("PRAGMA busy_timeout = \(busyTimeoutMilliseconds)", doing: "set busy_timeout")
        switch mode {
        case .readWrite:
            let journalMode = try await database.value("PRAGMA journal_mode = WAL", doing: "set journal_mode")
            guard journalMode?.string?.lowercased() == "wal" else {
                throw JournalError.notWAL(path: database.path, journalMode: journalMode?.string ?? "unknown")
            }
            // FULL: in WAL mode every commit fsyncs the WAL, so a commit survives power loss.
            // (NORMAL would survive only a process crash.) Incidents are rare; the fsync is cheap.
            try await database.rows("PRAGMA synchronous = FULL", doing: "set synchronous")
            // Bounds the WAL file left after a checkpoint.
            try await database.rows("PRAGMA journal_size_limit = 4194304", doing: "set journal_size_limit")
            try await migrate(database)
        case .readOnly:
            let version = try await schemaVersion(database)
            if version > JournalSchema.currentVersion {
                throw JournalError.schemaTooNew(
                    path: database.path,
                    version: version,
                    supported: JournalSchema.currentVersion
                )
            }
            if version < JournalSchema.currentVersion {
                throw JournalError.schemaMissing(
                    path: database.path,
                    version: version,
                    expected: JournalSchema.currentVersion
                )
            }
        }
    }

    private static func migrate(_ database: JournalConnection) async throws {
        try await database.transaction(doing: "migrate the schema") {
            try await database.rows(JournalSchema.versionTable, doing: "create the schemaVersion table")
            let version = try await schemaVersion(database)
            guard version <= JournalSchema.currentVersion else {
                throw JournalError.schemaTooNew(
                    path: database.path,
                    version: version,
                    supported: JournalSchema.currentVersion
                )
            }
            for next in stride(from: version + 1, through: JournalSchema.currentVersion, by: 1) {
                for statement in JournalSchema.migrations[next - 1] {
                    try await database.rows(statement, doing: "migrate the schema to version \(next)")
                }
                try await database.rows(
                    "INSERT INTO schemaVersion (version, appliedAt) VALUES (?, ?)",
                    [.integer(next), .integer(Int(EventTime.now.millisecondsSinceEpoch))],
                    doing: "record schema version \(next)"
                )
            }
        }
    }

    /// The highest migration applied; 0 for a database without the version table.
    private static func schemaVersion(_ database: JournalConnection) async throws -> Int {
        let hasTable = try await database.value(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schemaVersion'",
            doing: "read the schema version"
        )
        guard hasTable?.integer == 1 else { return 0 }
        let version = try await database.value(
            "SELECT coalesce(max(version), 0) FROM schemaVersion",
            doing: "read the schema version"
        )
        return version?.integer ?? 0
    }
}
