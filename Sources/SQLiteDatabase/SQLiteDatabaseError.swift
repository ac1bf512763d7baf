/// Why an operation on a SQLite database failed: the database file, what was being done, and
/// SQLite's own facts. The owner of a database (the journal, the collector's store) turns each
/// into its own error through the ``SQLiteSession/FailureReport`` it opens the database with.
public enum SQLiteDatabaseError: Error, CustomStringConvertible {
    /// A statement (or opening, or closing) failed; `error` is SQLite's (`SQLiteError`: result
    /// code and message) or sqlite-nio's.
    case statement(path: String, operation: String, error: any Error)
    /// A row's column does not hold what the reader expects.
    case unreadableRow(path: String, reason: String)
    /// The connection was closed before the operation.
    case closed(path: String, operation: String)
    /// The database was written by a newer program, whose schema this one does not know.
    case schemaTooNew(path: String, version: Int, supported: Int)

    public var description: String {
        switch self {
        case .statement(let path, let operation, let error):
            "SQLite \(path): \(operation): \(error)"
        case .unreadableRow(let path, let reason):
            "SQLite \(path): unreadable row: \(reason)"
        case .closed(let path, let operation):
            "SQLite \(path): \(operation): closed"
        case .schemaTooNew(let path, let version, let supported):
            "SQLite \(path): schema version \(version) is newer than this program knows (\(supported))"
        }
    }
}
