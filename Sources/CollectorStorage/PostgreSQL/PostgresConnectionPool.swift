import Logging
import NIOPosix
import Synchronization

/// The store's libpq connections, and the threads that use them.
///
/// - **Threads of its own**: ``size`` threads run libpq's blocking calls, so that they never hold
///   up Swift's cooperative threads or NIO's event loops, and a statement waiting for another
///   collector's row locks holds one of these threads only.
/// - **One operation per connection**: an operation runs whole (a transaction from `BEGIN` to
///   `COMMIT`) on one thread with one connection that nothing else uses meanwhile. There are at
///   most as many connections as threads, so an operation never waits for a connection, only for
///   a thread (in the thread pool's queue).
/// - **Reconnects**: connections are made when first needed and kept. One that broke (a
///   PostgreSQL restart, a network failure) or was left in a transaction is reconnected before its
///   next operation; an operation that failed because its connection broke, without anything
///   stored, runs once more on the reconnected connection.
final class PostgresConnectionPool: Sendable {
    static let size = 4

    private let parameters: PostgresConnectionParameters
    private let location: String
    private let logger: Logger
    private let threads: NIOThreadPool
    private let state = Mutex(State())

    private struct State {
        var idle: [LibpqConnection] = []
        var isClosed = false
    }

    /// Starts the threads; connects nothing yet.
    init(_ location: PostgresLocation, logger: Logger) {
        parameters = PostgresConnectionParameters(location)
        self.location = location.description
        self.logger = logger
        threads = NIOThreadPool(numberOfThreads: Self.size)
        threads.start()
    }

    /// Runs `operation` on one of the pool's threads with a connection of its own, even when the
    /// caller's task is cancelled once it started. Throws ``PostgresFailure/closed`` once the pool
    /// is closed.
    func withConnection<T: Sendable>(_ operation: @escaping @Sendable (LibpqConnection) throws -> T) async throws -> T {
        do {
            return try await threads.runIfActive { try self.run(operation) }
        } catch let error as PostgresFailure {
            throw error
        } catch {
            // The thread pool stopped, or refused work queued when it stopped.
            if state.withLock({ $0.isClosed }) { throw PostgresFailure.closed }
            throw error
        }
    }

    /// Closes every connection (`PQfinish`), once the operations running have ended; operations
    /// still waiting for a thread fail. Closing twice is harmless.
    func close() async {
        let idle = state.withLock { state in
            state.isClosed = true
            defer { state.idle = [] }
            return state.idle
        }
        for connection in idle { connection.finish() }
        // Waits for the running operations, which finish their connections as they end.
        try? await threads.shutdownGracefully()
    }

    private func run<T>(_ operation: (LibpqConnection) throws -> T) throws -> T {
        let connection = try lease()
        defer { giveBack(connection) }
        do {
            return try operation(connection)
        } catch let failure as PostgresFailure where failure.isSafeToRunAgain {
            logger.notice(
                "PostgreSQL connection lost; reconnecting",
                metadata: ["url": "\(location)", "reason": "\(failure)"]
            )
            try connection.reconnect()
            return try operation(connection)
        }
    }

    private func lease() throws(PostgresFailure) -> LibpqConnection {
        let (isClosed, idle) = state.withLock { state in (state.isClosed, state.isClosed ? nil : state.idle.popLast()) }
        guard !isClosed else { throw .closed }
        guard let idle else { return try LibpqConnection(connecting: parameters) }
        guard !idle.isReady else { return idle }
        logger.notice("reconnecting to PostgreSQL", metadata: ["url": "\(location)"])
        do {
            try idle.reconnect()
        } catch {
            giveBack(idle)
            throw error
        }
        return idle
    }

    private func giveBack(_ connection: LibpqConnection) {
        let keep = state.withLock { state in
            guard !state.isClosed else { return false }
            state.idle.append(connection)
            return true
        }
        if !keep { connection.finish() }
    }
}
