import SQLiteNIO

/// One SQLite connection of a journal, with errors that name the journal and what was being done.
///
/// Its methods run one statement at a time on the connection's thread pool. It has no ordering of
/// its own: ``IncidentJournal`` lets one operation at a time use it.
struct JournalConnection: Sendable {
    let connection: SQLiteConnection
    let path: String

    /// Runs one statement and returns its rows.
    @discardableResult
    func rows(_ sql: String, _ binds: [SQLiteData] = [], doing operation: String) async throws -> [SQLiteRow] {
        do {
            return try await connection.query(sql, binds)
        } catch let error as SQLiteError {
            throw JournalError.sqlite(path: path, operation: operation, error: error)
        }
    }

    /// The first column of the first row of a query, e.g. a PRAGMA's value.
    func value(_ sql: String, _ binds: [SQLiteData] = [], doing operation: String) async throws -> SQLiteData? {
        try await rows(sql, binds, doing: operation).first?.columns.first?.data
    }

    /// Runs `body` in one write transaction (`BEGIN IMMEDIATE` … `COMMIT`) and returns once the
    /// commit is durable; rolls back when `body` or the commit fails.
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

    /// A row's column as text, or ``JournalError/unreadableRow(path:reason:)``.
    func text(_ row: SQLiteRow, _ column: String) throws -> String {
        guard case .text(let value) = row.column(column) else { throw unreadable(row, column, "text") }
        return value
    }

    /// A row's column as an integer, or ``JournalError/unreadableRow(path:reason:)``.
    func integer(_ row: SQLiteRow, _ column: String) throws -> Int64 {
        guard case .integer(let value) = row.column(column) else { throw unreadable(row, column, "an integer") }
        return Int64(value)
    }

    private func unreadable(_ row: SQLiteRow, _ column: String, _ expected: String) -> JournalError {
        .unreadableRow(path: path, reason: "column \(column) is \(row.column(column) ?? .null), expected \(expected)")
    }
}
