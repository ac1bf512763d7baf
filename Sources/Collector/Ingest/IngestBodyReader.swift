import Hummingbird

/// Reads an ingest body under `maxBodyBytes`: the bytes received (checked against
/// `Content-Length` first, then while reading) and, for gzip, the decompressed bytes too.
struct IngestBodyReader: Sendable {
    enum Encoding: Sendable, Equatable {
        case identity
        case gzip
    }

    let maxBodyBytes: Int

    /// `Content-Encoding`: none, `identity` or `gzip` (`x-gzip`); anything else is a 415.
    static func encoding(of header: String?) throws(APIError) -> Encoding {
        guard let header else { return .identity }
        switch header.lowercased().filter({ $0 != " " && $0 != "\t" }) {
        case "", "identity": return .identity
        case "gzip", "x-gzip": return .gzip
        default:
            throw APIError(
                .unsupportedMediaType,
                "unsupported Content-Encoding \"\(header)\"; send gzip or no encoding"
            )
        }
    }

    /// `Content-Type` must be `application/json` (parameters such as `charset` are allowed).
    static func checkContentType(_ header: String?) throws(APIError) {
        let mediaType = header?.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: " \t").lowercased()
        }
        guard mediaType == "application/json" else {
            throw APIError(.unsupportedMediaType, "Content-Type must be application/json")
        }
    }

    /// The body's bytes, decompressed.
    func read(_ request: Request, encoding: Encoding) async throws -> [UInt8] {
        var declaredLength: Int?
        if let header = request.headers[.contentLength] {
            guard let length = Int(header), length >= 0 else {
                throw APIError(.badRequest, "invalid Content-Length \"\(header)\"")
            }
            guard length <= maxBodyBytes else { throw tooLarge(encoding == .gzip ? "compressed body" : "body") }
            declaredLength = length
        }
        switch encoding {
        case .identity:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(declaredLength ?? 0)
            for try await chunk in request.body {
                guard bytes.count + chunk.readableBytes <= maxBodyBytes else { throw tooLarge("body") }
                bytes.append(contentsOf: chunk.readableBytesView)
            }
            return bytes
        case .gzip:
            let inflater = try GzipInflater(limit: maxBodyBytes)
            var received = 0
            do {
                for try await chunk in request.body {
                    received += chunk.readableBytes
                    guard received <= maxBodyBytes else { throw tooLarge("compressed body") }
                    try inflater.feed(chunk)
                }
                return try inflater.finish()
            } catch let failure as GzipInflater.Failure {
                switch failure {
                case .invalid: throw APIError(.badRequest, "body is not valid gzip")
                case .tooLarge: throw tooLarge("decompressed body")
                }
            }
        }
    }

    private func tooLarge(_ what: String) -> APIError {
        APIError(.contentTooLarge, "\(what) is larger than \(maxBodyBytes) bytes (limits.maxBodyBytes)")
    }
}

extension StringProtocol {
    /// The text without leading and trailing characters of `set`.
    fileprivate func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return String(text)
    }
}
