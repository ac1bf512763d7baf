import CollectorStorage
import ExecEvents
import Hummingbird

/// An error reply: `{"error":"<reason>"}` with its status and any extra headers.
public struct APIError: Error, HTTPResponseError, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var reason: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ reason: String, headers: HTTPFields = [:]) {
        self.status = status
        self.reason = reason
        self.headers = headers
    }

    /// How long agents are asked to wait (`Retry-After`, seconds) when the store failed.
    public static let storageRetryAfterSeconds = 5

    /// The store failed (`error`); agents keep what they sent and try again after `Retry-After`.
    /// The reply says what kind of failure it was (the store's full, its server unreachable), not
    /// its details: those are in the collector's log.
    public static func storageUnavailable(_ error: any Error) -> APIError {
        let what =
            switch StorageFailureCause(of: error) {
            case .full: "storage full"
            case .unreachable: "storage unreachable"
            case .other: "storage unavailable"
            }
        return APIError(
            .serviceUnavailable,
            "\(what), retry later",
            headers: [.retryAfter: "\(storageRetryAfterSeconds)"]
        )
    }

    public var description: String { "\(status.code) \(reason)" }

    /// The reply.
    public var response: Response {
        var json = JSONWriter(capacity: reason.utf8.count + 16)
        json.beginObject()
        json.key("error")
        json.string(reason)
        json.endObject()
        var response = Response.json(json.bytes, status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response
    }
}
