import SQLiteNIO

/// One SQLite connection, with statement helpers whose errors name the database file and what was
/// being done ("doing:"), reported as its owner's errors.
///
/// It has no ordering of its own: ``SQLiteSerialConnection`` lets one operation at a time use it.
public struct SQLiteSession: Sendable {
    /// Turns a failure of this module into the owner's own error (e.g. the journal's).
    public typealias FailureReport = @Sendable (SQLiteDatabaseError) -> any Error

    public let connection: SQLiteConnection
    /// The database file.
    public let path: String
    let report: FailureReport

    public init(connection: SQLiteConnection, path: String, report: @escaping FailureReport) {
        self.connection = connection
        self.path = path
        self.report = report
    }

    /// Runs one statement and returns its rows.
    @discardableResult
    public func rows(_ sql: String, _ binds: [SQLiteData] = [], doing operation: String) async throws -> [SQLiteRow] {
        do {
            return try await connection.query(sql, binds)
        } catch {
            throw failure(operation, error)
        }
    }

    /// The first column of the first row of a query, e.g. a PRAGMA's value.
    public func value(_ sql: String, _ binds: [SQLiteData] = [], doing operation: String) async throws -> SQLiteData? {
        try await rows(sql, binds, doing: operation).first?.columns.first?.data
    }

    /// Runs `body` in one write transaction (`BEGIN IMMEDIATE` … `COMMIT`) and returns once the
    /// commit is done (durable as the database's `synchronous` setting says): the write lock is
    /// taken first, so what `body` reads stays true until the commit, also against other processes.
    /// Rolls back when `body` or the commit fails; `body`'s own errors are rethrown as they are.
    public func transaction<T>(doing operation: String, _ body: () async throws -> T) async throws -> T {
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

    /// The owner's error for `error` while doing `operation` (an error that is the owner's already
    /// is reported by the owner's ``FailureReport`` as it sees fit).
    public func failure(_ operation: String, _ error: any Error) -> any Error {
        report(.statement(path: path, operation: operation, error: error))
    }

    /// A row's column as text.
    public func text(_ row: SQLiteRow, _ column: String) throws -> String {
        guard case .text(let value) = row.column(column) else { throw unreadable(row, column, "text") }
        return value
    }

    /// A row's column as an integer.
    public func integer(_ row: SQLiteRow, _ column: String) throws -> Int64 {
        guard case .integer(let value) = row.column(column) else { throw unreadable(row, column, "an integer") }
        return Int64(value)
    }

    /// A row's column as an integer, or nil when NULL.
    public func optionalInteger(_ row: SQLiteRow, _ column: String) throws -> Int64? {
        if row.column(column)?.isNull ?? true { return nil }
        return try integer(row, column)
    }

    private func unreadable(_ row: SQLiteRow, _ column: String, _ expected: String) -> any Error {
        report(
            .unreadableRow(
                path: path,
                reason: "column \(column) is \(row.column(column) ?? .null), expected \(expected)"
            )
        )
    }
}
