import Logging
import NIOPosix
import SQLiteNIO

/// A SQLite connection on a thread of its own that runs one operation at a time, first come first
/// served, each to its end even when the caller's task is cancelled (a transaction is never left
/// half-way on the connection).
///
/// The thread is the connection's alone: SQLite's blocking calls (the fsync at every commit) never
/// hold up threads that other parts of the program need. Call ``close()`` when done: the
/// connection and its thread are shut down explicitly.
public actor SQLiteSerialConnection {
    /// The database file.
    public nonisolated let path: String
    private let session: SQLiteSession
    private let threadPool: NIOThreadPool
    private var isClosed = false
    private var operationRunning = false
    private var waitingOperations: [CheckedContinuation<Void, Never>] = []

    private init(session: SQLiteSession, threadPool: NIOThreadPool) {
        self.session = session
        self.path = session.path
        self.threadPool = threadPool
    }

    /// Opens the database file `path` through the SQLite URI `uri` (which says how: read-only,
    /// read-write, …) on a new thread; failures, then and later, are reported through `report`.
    public static func open(
        path: String,
        uri: String,
        logger: Logger = Logger(label: "execwatch.sqlite"),
        report: @escaping SQLiteSession.FailureReport
    ) async throws -> SQLiteSerialConnection {
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        do {
            let connection = try await SQLiteConnection.open(
                storage: .file(path: uri),
                threadPool: threadPool,
                logger: logger,
                on: MultiThreadedEventLoopGroup.singleton.any()
            )
            return SQLiteSerialConnection(
                session: SQLiteSession(connection: connection, path: path, report: report),
                threadPool: threadPool
            )
        } catch {
            try? await threadPool.shutdownGracefully()
            throw report(.statement(path: path, operation: "open", error: error))
        }
    }

    /// Runs `operation` when no other operation of this connection runs, in a task of its own so
    /// that cancelling the caller does not stop it half-way. After ``close()`` it fails with the
    /// owner's error for ``SQLiteDatabaseError/closed(path:operation:)``.
    public func exclusively<T: Sendable>(
        doing description: String,
        _ operation: @escaping @Sendable (SQLiteSession) async throws -> T
    ) async throws -> T {
        await waitForTurn()
        defer { endTurn() }
        guard !isClosed else { throw session.report(.closed(path: path, operation: description)) }
        let session = self.session
        return try await Task { try await operation(session) }.value
    }

    /// Closes the connection (SQLite checkpoints the WAL when the last connection closes) once the
    /// operations called before have run, and stops its thread; later operations fail. Closing
    /// twice is harmless.
    public func close() async throws {
        await waitForTurn()
        defer { endTurn() }
        guard !isClosed else { return }
        isClosed = true
        let connection = session.connection
        let closing = await Task { try await connection.close() }.result
        try? await threadPool.shutdownGracefully()
        if case .failure(let error) = closing { throw session.failure("close", error) }
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
}
