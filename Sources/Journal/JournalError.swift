import SQLiteDatabase

/// Why a journal could not be opened, read or written. Each case names the database file and
/// keeps the system's own facts (errno, SQLite's result code and message).
public enum JournalError: Error, CustomStringConvertible {
    /// There is no journal at the path (a read-only open never creates one).
    case notFound(path: String)
    /// A file-system step on the state directory or the database file failed.
    case fileSystem(path: String, operation: String, errno: Int32)
    /// SQLite refused an operation (`error` is SQLite's: result code and message).
    case sqlite(path: String, operation: String, error: any Error)
    /// The database is not, and could not be put, in WAL mode.
    case notWAL(path: String, journalMode: String)
    /// The database was written by a newer execwatch, whose schema this one does not know.
    case schemaTooNew(path: String, version: Int, supported: Int)
    /// A read-only open found a database the agent has not set up (or not upgraded) yet.
    case schemaMissing(path: String, version: Int, expected: Int)
    /// A stored row could not be read back.
    case unreadableRow(path: String, reason: String)
    /// A write on a journal opened read-only.
    case readOnly(path: String)
    /// The journal was closed.
    case closed(path: String)

    public var description: String {
        switch self {
        case .notFound(let path):
            "no journal at \(path)"
        case .fileSystem(let path, let operation, let errno):
            "\(path): cannot \(operation): \(systemMessage(errno)) (errno \(errno))"
        case .sqlite(let path, let operation, let error):
            "journal \(path): \(operation): \(error)"
        case .notWAL(let path, let journalMode):
            "journal \(path): journal_mode is \(journalMode), not wal"
        case .schemaTooNew(let path, let version, let supported):
            "journal \(path): schema version \(version) was written by a newer execwatch (this one knows up to \(supported))"
        case .schemaMissing(let path, let version, let expected):
            "journal \(path): schema version \(version), expected \(expected) (start the agent once to set it up)"
        case .unreadableRow(let path, let reason):
            "journal \(path): unreadable row: \(reason)"
        case .readOnly(let path):
            "journal \(path): opened read-only"
        case .closed(let path):
            "journal \(path): closed"
        }
    }
}

extension JournalError {
    /// The journal's words for a failure of its database.
    init(_ failure: SQLiteDatabaseError) {
        switch failure {
        case .statement(let path, let operation, let error):
            self = error as? JournalError ?? .sqlite(path: path, operation: operation, error: error)
        case .unreadableRow(let path, let reason):
            self = .unreadableRow(path: path, reason: reason)
        case .closed(let path, _):
            self = .closed(path: path)
        case .schemaTooNew(let path, let version, let supported):
            self = .schemaTooNew(path: path, version: version, supported: supported)
        }
    }
}
