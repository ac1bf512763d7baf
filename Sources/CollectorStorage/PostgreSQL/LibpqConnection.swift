import CLibpq

/// One connection of libpq, PostgreSQL's C client: runs one statement at a time, blocking, with
/// text parameters (`$1`, `$2`, …; values never go into the SQL text).
///
/// `@unchecked Sendable`: a `PGconn` must never be used by two threads at once, and this class
/// does not lock. ``PostgresConnectionPool`` hands each connection to one operation at a time,
/// which uses it on one thread of the pool; a connection moves to another thread only between
/// operations, through the pool's mutex.
final class LibpqConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    private var isFinished = false

    /// Connects (blocking, for at most the `connect_timeout` of `parameters`).
    init(connecting parameters: PostgresConnectionParameters) throws(PostgresFailure) {
        let connected = parameters.withCArrays { keywords, values in
            PQconnectdbParams(keywords, values, 0)
        }
        guard let connected else {
            throw PostgresFailure(message: "libpq cannot allocate a connection", connectionBroke: true)
        }
        guard PQstatus(connected) == CONNECTION_OK else {
            let message = PostgresFailure.oneLine(PQerrorMessage(connected))
            PQfinish(connected)
            throw PostgresFailure(message: message, connectionBroke: true)
        }
        // libpq prints the server's notices ("schema … already exists, skipping") to stderr.
        PQsetNoticeProcessor(connected, { _, _ in }, nil)
        handle = connected
    }

    deinit { finish() }

    /// True when the connection is up and outside any transaction: ready for an operation.
    var isReady: Bool {
        !isFinished && PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    /// Connects again with the same parameters (`PQreset`), after the server restarted or the
    /// network failed, or to leave a transaction that could not be ended.
    func reconnect() throws(PostgresFailure) {
        precondition(!isFinished, "reconnecting a finished connection")
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            throw PostgresFailure(message: PostgresFailure.oneLine(PQerrorMessage(handle)), connectionBroke: true)
        }
    }

    /// Closes the connection (`PQfinish`); finishing twice is harmless.
    func finish() {
        guard !isFinished else { return }
        isFinished = true
        PQfinish(handle)
    }

    /// Runs one statement with text parameters (nil is NULL) and returns its rows (none for a
    /// statement without `RETURNING`). Every result is cleared before this returns.
    @discardableResult
    func execute(_ sql: String, _ parameters: [String?] = []) throws(PostgresFailure) -> PostgresRows {
        guard !isFinished else { throw PostgresFailure.closed }
        let result = try PostgresParameters(parameters).withCPointers { values, count in
            PQexecParams(handle, sql, count, nil, values, nil, nil, 0)
        }
        guard let result else {
            // Out of memory, or the connection could not even send the statement.
            throw PostgresFailure(
                message: PostgresFailure.oneLine(PQerrorMessage(handle)),
                connectionBroke: PQstatus(handle) != CONNECTION_OK
            )
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK: return PostgresRows(result)
        case PGRES_COMMAND_OK: return PostgresRows()
        default: throw PostgresFailure(result: result, connectionBroke: PQstatus(handle) != CONNECTION_OK)
        }
    }
}
