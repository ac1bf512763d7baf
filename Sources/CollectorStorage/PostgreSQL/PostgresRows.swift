import CLibpq

/// The rows a statement returned, copied out of libpq's `PGresult` (which is cleared at once), as
/// text: PostgreSQL's text output of each value, or nil for NULL.
struct PostgresRows: Sendable {
    /// How many rows.
    let count: Int
    private let columnNames: [String]
    /// Row after row.
    private let values: [String?]

    /// No rows: what a statement without `RETURNING` gives.
    init() {
        count = 0
        columnNames = []
        values = []
    }

    /// Copies the rows of `result` (a `PGRES_TUPLES_OK` result).
    init(_ result: OpaquePointer) {
        let rows = Int(PQntuples(result))
        let columns = Int(PQnfields(result))
        count = rows
        columnNames = (0..<columns).map { String(cString: PQfname(result, Int32($0))) }
        var values: [String?] = []
        values.reserveCapacity(rows * columns)
        for row in 0..<Int32(rows) {
            for column in 0..<Int32(columns) {
                guard PQgetisnull(result, row, column) == 0, let text = PQgetvalue(result, row, column) else {
                    values.append(nil)
                    continue
                }
                let length = Int(PQgetlength(result, row, column))
                values.append(String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self))
            }
        }
        self.values = values
    }

    /// The value in `column` of `row`; nil for NULL.
    func optionalText(_ row: Int, _ column: Int) -> String? {
        values[row * columnNames.count + column]
    }

    func text(_ row: Int, _ column: Int) throws(CollectorStoreError) -> String {
        guard let text = optionalText(row, column) else {
            throw .unreadableRow(reason: "\(columnNames[column]) is NULL")
        }
        return text
    }

    func int64(_ row: Int, _ column: Int) throws(CollectorStoreError) -> Int64 {
        guard let value = try optionalInt64(row, column) else {
            throw .unreadableRow(reason: "\(columnNames[column]) is NULL")
        }
        return value
    }

    func optionalInt64(_ row: Int, _ column: Int) throws(CollectorStoreError) -> Int64? {
        guard let text = optionalText(row, column) else { return nil }
        guard let value = Int64(text) else {
            throw .unreadableRow(reason: "\(columnNames[column]) \"\(text)\" is not an integer")
        }
        return value
    }
}
