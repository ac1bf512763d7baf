import CompressNIO
import NIOCore

/// The bytes of a request to the collector, and how they are encoded.
struct RequestBody: Sendable {
    var bytes: ByteBuffer
    /// `gzip`, or nil when sent as is.
    var contentEncoding: String?

    /// The batch's JSON array, gzip-compressed when `gzip` is set.
    init(_ batch: OutboxBatch, gzip: Bool) throws {
        var json = ByteBuffer(bytes: batch.jsonArray)
        if gzip {
            bytes = try json.compress(with: .gzip())
            contentEncoding = "gzip"
        } else {
            bytes = json
            contentEncoding = nil
        }
    }
}
