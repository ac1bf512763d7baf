import SQLiteNIO

/// A connection that runs one operation at a time, first come first served, each to its end even
/// when the caller's task is cancelled (a transaction is never left half-way on the connection).
///
/// The store has two: the writer (every write, one transaction at a time) and the reader (queries,
/// which WAL lets run beside the writer).
actor SQLiteSerialConnection {
    private let session: SQLiteSession
    private var isClosed = false
    private var operationRunning = false
    private var waitingOperations: [CheckedContinuation<Void, Never>] = []

    init(_ session: SQLiteSession) {
        self.session = session
    }

    /// Runs `operation` when no other operation of this connection runs, in a task of its own so
    /// that cancelling the caller does not stop it half-way.
    func exclusively<T: Sendable>(
        doing description: String,
        _ operation: @escaping @Sendable (SQLiteSession) async throws -> T
    ) async throws -> T {
        await waitForTurn()
        defer { endTurn() }
        guard !isClosed else {
            throw CollectorStoreError.database(
                operation: description,
                reason: "SQLite \(session.path): the store is closed"
            )
        }
        let session = self.session
        return try await Task { try await operation(session) }.value
    }

    /// Closes the connection once the operations called before have run; later ones fail.
    /// Closing twice is harmless.
    func close() async throws {
        await waitForTurn()
        defer { endTurn() }
        guard !isClosed else { return }
        isClosed = true
        let connection = session.connection
        do {
            try await Task { try await connection.close() }.value
        } catch {
            throw session.failure("close", error)
        }
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
