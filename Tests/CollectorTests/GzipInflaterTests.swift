import CompressNIO
import Hummingbird
import NIOCore
import Testing

@testable import Collector

@Suite("Gzip bodies")
struct GzipInflaterTests {
    let text = Array(Fixtures.jsonArray([Fixtures.incident(), Fixtures.incident(host: "db-1")]).utf8)

    private func inflate(_ chunks: [ByteBuffer], limit: Int = 1 << 20) throws -> [UInt8] {
        let inflater = try GzipInflater(limit: limit)
        for chunk in chunks { try inflater.feed(chunk) }
        return try inflater.finish()
    }

    private func chunks(of buffer: ByteBuffer, size: Int) -> [ByteBuffer] {
        stride(from: 0, to: buffer.readableBytes, by: size).map {
            buffer.getSlice(at: buffer.readerIndex + $0, length: min(size, buffer.readableBytes - $0))!
        }
    }

    @Test("a whole stream decompresses, however it is split", arguments: [1, 7, 100, 1 << 16])
    func whole(chunkSize: Int) throws {
        let compressed = try Fixtures.gzip(text)
        #expect(try inflate(chunks(of: compressed, size: chunkSize)) == text)
    }

    @Test("a stream cut anywhere is invalid")
    func truncated() throws {
        let compressed = try Fixtures.gzip(text)
        for length in 0..<compressed.readableBytes {
            let prefix = compressed.getSlice(at: compressed.readerIndex, length: length)!
            #expect(throws: GzipInflater.Failure.invalid, "cut at \(length)") { try inflate([prefix]) }
        }
    }

    @Test("several members make one body; garbage after a member is invalid")
    func members() throws {
        var first = try Fixtures.gzip(Array(text.prefix(100)))
        var second = try Fixtures.gzip(Array(text.dropFirst(100)))
        var both = first
        both.writeBuffer(&second)
        #expect(try inflate([both]) == text)
        #expect(try inflate(chunks(of: both, size: 3)) == text)
        first.writeString("garbage")
        #expect(throws: GzipInflater.Failure.invalid) { try inflate([first]) }
    }

    @Test("output beyond the limit stops the inflater")
    func limit() throws {
        let bomb = try Fixtures.gzip([UInt8](repeating: 0, count: 10 << 20))
        #expect(throws: GzipInflater.Failure.tooLarge) { try inflate([bomb], limit: 1 << 20) }
        #expect(try inflate([try Fixtures.gzip(text)], limit: text.count) == text)
        #expect(throws: GzipInflater.Failure.tooLarge) { try inflate([try Fixtures.gzip(text)], limit: text.count - 1) }
    }
}

@Suite("Body limits without Content-Length")
struct IngestBodyReaderTests {
    private func request(_ chunks: [ByteBuffer], encoding: String? = nil) -> Request {
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        for chunk in chunks { continuation.yield(chunk) }
        continuation.finish()
        var headers: HTTPFields = [.contentType: "application/json"]
        if let encoding { headers[.contentEncoding] = encoding }
        return Request(
            head: HTTPRequest(
                method: .post,
                scheme: "http",
                authority: "collector",
                path: "/api/v1/incidents",
                headerFields: headers
            ),
            body: RequestBody(asyncSequence: stream)
        )
    }

    @Test("a chunked body is cut off once it passes the limit")
    func chunkedBody() async throws {
        let reader = IngestBodyReader(maxBodyBytes: 1000)
        let chunk = ByteBuffer(repeating: UInt8(ascii: " "), count: 400)
        #expect(try await reader.read(request([chunk, chunk]), encoding: .identity).count == 800)
        await #expect(throws: APIError(.contentTooLarge, "body is larger than 1000 bytes (limits.maxBodyBytes)")) {
            try await reader.read(request([chunk, chunk, chunk]), encoding: .identity)
        }
    }

    @Test("a chunked gzip body is limited compressed and decompressed")
    func chunkedGzip() async throws {
        let reader = IngestBodyReader(maxBodyBytes: 1000)
        let small = try Fixtures.gzip(Array(repeating: UInt8(ascii: " "), count: 900))
        #expect(try await reader.read(request([small]), encoding: .gzip).count == 900)
        let bomb = try Fixtures.gzip(Array(repeating: UInt8(ascii: " "), count: 100_000))
        await #expect(
            throws: APIError(.contentTooLarge, "decompressed body is larger than 1000 bytes (limits.maxBodyBytes)")
        ) {
            try await reader.read(request([bomb]), encoding: .gzip)
        }
    }
}
