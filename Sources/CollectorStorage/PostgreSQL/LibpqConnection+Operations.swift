extension LibpqConnection {
    /// Runs `body` in a transaction: `BEGIN`, then `COMMIT` when `body` returns, `ROLLBACK` when
    /// it throws.
    ///
    /// A failure that broke the connection before `COMMIT` was sent is marked
    /// ``PostgresFailure/isSafeToRunAgain``: the server rolls back the transaction of a lost
    /// connection, so nothing of it was stored. A `COMMIT` that fails that way is not: it may have
    /// been committed.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        do {
            try execute("BEGIN")
        } catch {
            throw error.safeToRunAgainIfTheConnectionBroke()
        }
        let value: T
        do {
            value = try body()
        } catch let failure as PostgresFailure {
            // Best effort: when it fails, the pool reconnects (the connection is not idle).
            if !failure.connectionBroke { _ = try? execute("ROLLBACK") }
            throw failure.safeToRunAgainIfTheConnectionBroke()
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
        try execute("COMMIT")
        return value
    }

    /// Runs one statement that changes nothing; a failure that broke the connection is marked
    /// ``PostgresFailure/isSafeToRunAgain``.
    func read(_ sql: String, _ parameters: [String?] = []) throws(PostgresFailure) -> PostgresRows {
        do {
            return try execute(sql, parameters)
        } catch {
            throw error.safeToRunAgainIfTheConnectionBroke()
        }
    }
}
