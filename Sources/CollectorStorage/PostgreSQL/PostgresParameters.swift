/// The text parameters of one statement as `PQexecParams` takes them: NUL-terminated UTF-8
/// strings (or NULL pointers), laid out in one buffer.
struct PostgresParameters {
    private var bytes: [UInt8] = []
    /// Where each parameter starts in `bytes`; nil for NULL.
    private var starts: [Int?] = []

    /// Throws when a value holds a NUL byte, which PostgreSQL's text cannot hold (and which would
    /// silently cut the C string short).
    init(_ values: [String?]) throws(PostgresFailure) {
        starts.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            guard let value else {
                starts.append(nil)
                continue
            }
            guard !value.utf8.contains(0) else {
                throw PostgresFailure(
                    message: "parameter $\(index + 1) holds a NUL byte, which PostgreSQL text cannot hold",
                    connectionBroke: false
                )
            }
            starts.append(bytes.count)
            bytes.append(contentsOf: value.utf8)
            bytes.append(0)
        }
    }

    /// Calls `body` with the parameters' C strings and their count.
    func withCPointers<Result>(
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?, Int32) -> Result
    ) -> Result {
        bytes.withUnsafeBytes { buffer in
            let pointers: [UnsafePointer<CChar>?] = starts.map { start in
                start.flatMap { buffer.baseAddress?.advanced(by: $0).assumingMemoryBound(to: CChar.self) }
            }
            return pointers.withUnsafeBufferPointer { body($0.baseAddress, Int32($0.count)) }
        }
    }
}
