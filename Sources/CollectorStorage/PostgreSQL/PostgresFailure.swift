import CLibpq

/// What went wrong in PostgreSQL or on the way to it, as libpq reports it: the server's message
/// (with its detail) and SQLSTATE, or the connection's error.
///
/// It never holds the password (libpq's messages do not quote it) or a parameter's value; the
/// server's detail may name a key (`Key (name)=(web-1) already exists`).
struct PostgresFailure: Error, CustomStringConvertible {
    var message: String
    /// The SQLSTATE the server sent, if it was the server that refused.
    var sqlState: String?
    /// The connection is down (`PQstatus` is not `CONNECTION_OK`): the server went away, restarted,
    /// or could not be reached.
    var connectionBroke: Bool
    /// Nothing the operation did can have been stored, so it can run again on a new connection.
    var isSafeToRunAgain = false

    init(message: String, sqlState: String? = nil, connectionBroke: Bool) {
        self.message = message
        self.sqlState = sqlState
        self.connectionBroke = connectionBroke
    }

    /// The failure a `PGresult` describes.
    init(result: OpaquePointer, connectionBroke: Bool) {
        // The PG_DIAG_* codes are C character literals: 'C', 'M', 'D'.
        func field(_ code: Character) -> String? {
            guard let ascii = code.asciiValue, let text = PQresultErrorField(result, Int32(ascii)) else { return nil }
            return String(cString: text)
        }
        var message = field("M") ?? Self.oneLine(PQresultErrorMessage(result))
        if let detail = field("D") { message += " (\(Self.oneLine(detail)))" }
        if message.isEmpty { message = "PostgreSQL failed without a message" }
        self.init(message: message, sqlState: field("C"), connectionBroke: connectionBroke)
    }

    /// An operation on a store that is closed.
    static let closed = PostgresFailure(message: "the store is closed", connectionBroke: false)

    var description: String { sqlState.map { "\(message) [SQLSTATE \($0)]" } ?? message }

    /// What kind of failure this is: the server out of disk space (`disk_full`), the server gone
    /// (the connection broke or could not be made), or another.
    var cause: StorageFailureCause {
        if sqlState == "53100" { return .full }
        return connectionBroke ? .unreachable : .other
    }

    /// A deadlock or a serialization failure: the transaction was rolled back and can run again.
    var isDeadlockOrSerializationFailure: Bool { sqlState == "40P01" || sqlState == "40001" }

    /// This failure, marked ``isSafeToRunAgain`` when it broke the connection.
    func safeToRunAgainIfTheConnectionBroke() -> PostgresFailure {
        var failure = self
        failure.isSafeToRunAgain = connectionBroke
        return failure
    }

    /// libpq's multi-line message (`…failed: Connection refused\n\tIs the server running…`) on one
    /// line.
    static func oneLine(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        return oneLine(String(cString: text))
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == " " }).joined(separator: " ")
    }
}
