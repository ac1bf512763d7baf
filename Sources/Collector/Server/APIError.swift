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

    /// The store failed; agents retry later.
    public static let storageUnavailable = APIError(
        .serviceUnavailable,
        "storage unavailable, retry later",
        headers: [.retryAfter: "5"]
    )

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
