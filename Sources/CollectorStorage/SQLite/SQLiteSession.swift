import SQLiteNIO

/// One SQLite connection of a store, with errors that name the database file and what was being
/// done.
///
/// It has no ordering of its own: ``SQLiteSerialConnection`` lets one operation at a time use it.
struct SQLiteSession: Sendable {
    let connection: SQLiteConnection
    let path: String

    /// Runs one statement and returns its rows.
    @discardableResult
    func rows(_ sql: String, _ binds: [SQLiteData] = [], doing operation: String) async throws -> [SQLiteRow] {
        do {
            return try await connection.query(sql, binds)
        } catch {
            throw failure(operation, error)
        }
    }

    /// The first column of the first row of a query, e.g. a PRAGMA's value.
    func value(_ sql: String, _ binds: [SQLiteData] = [], doing operation: String) async throws -> SQLiteData? {
        try await rows(sql, binds, doing: operation).first?.columns.first?.data
    }

    /// Runs `body` in one write transaction (`BEGIN IMMEDIATE` … `COMMIT`): the write lock is
    /// taken first, so what `body` reads stays true until the commit, also against other
    /// processes. Rolls back when `body` or the commit fails.
    func transaction<T>(doing operation: String, _ body: () async throws -> T) async throws -> T {
        try await rows("BEGIN IMMEDIATE", doing: operation)
        do {
            let result = try await body()
            try await rows("COMMIT", doing: operation)
            return result
        } catch {
            // SQLite may have rolled back already (e.g. after an I/O error); then this fails harmlessly.
            _ = try? await rows("ROLLBACK", doing: operation)
            throw error
        }
    }

    func failure(_ operation: String, _ error: any Error) -> CollectorStoreError {
        if let error = error as? CollectorStoreError { return error }
        return .database(operation: operation, reason: "SQLite \(path): \(error)")
    }

    /// A row's column as text.
    func text(_ row: SQLiteRow, _ column: String) throws(CollectorStoreError) -> String {
        guard case .text(let value) = row.column(column) else { throw unreadable(row, column, "text") }
        return value
    }

    /// A row's column as an integer.
    func integer(_ row: SQLiteRow, _ column: String) throws(CollectorStoreError) -> Int64 {
        guard case .integer(let value) = row.column(column) else { throw unreadable(row, column, "an integer") }
        return Int64(value)
    }

    /// A row's column as an integer, or nil when NULL.
    func optionalInteger(_ row: SQLiteRow, _ column: String) throws(CollectorStoreError) -> Int64? {
        if row.column(column)?.isNull ?? true { return nil }
        return try integer(row, column)
    }

    private func unreadable(_ row: SQLiteRow, _ column: String, _ expected: String) -> CollectorStoreError {
        .unreadableRow(
            reason: "SQLite \(path): column \(column) is \(row.column(column) ?? .null), expected \(expected)"
        )
    }
}
