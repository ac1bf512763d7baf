import ExecEvents

/// What a reply of the collector means for the batch that was sent.
enum CollectorVerdict: Sendable, Equatable {
    /// 2xx: the collector stored the batch; acknowledge every row of it.
    case accepted
    /// The batch may succeed later: wait and send it again. `retryAfterMilliseconds` is the
    /// collector's own `Retry-After` (429 or 503), to be honoured instead of the backoff.
    case retryLater(reason: String, retryAfterMilliseconds: Int64?)
    /// 401 or 403: the collector does not accept our credentials; retried with backoff, since an
    /// operator may fix the token or the agent's registration meanwhile.
    case unauthorized(reason: String)
    /// 400, 413, 415 or 422: the collector will never take this content. A batch of several
    /// incidents is split to find the one refused; a single incident is moved to the journal's
    /// dead letters with `status` and `reason`.
    case refusedContent(status: Int, reason: String)

    /// Classifies a reply by its status, its `Retry-After` header and its body.
    init(status: Int, reasonPhrase: String, retryAfter: String?, body: CollectorReplyBody, now: EventTime) {
        let reason = Self.describe(status: status, reasonPhrase: reasonPhrase, body: body)
        switch status {
        case 200..<300:
            self = .accepted
        case 401, 403:
            self = .unauthorized(reason: reason)
        case 400, 413, 415, 422:
            self = .refusedContent(status: status, reason: reason)
        case 429, 503:
            // "Retry-After: 0" (or a date already past) would have us hammer the collector: back off.
            let wait = retryAfter.flatMap { RetryAfter.milliseconds($0, now: now) }.flatMap { $0 > 0 ? $0 : nil }
            self = .retryLater(reason: reason, retryAfterMilliseconds: wait)
        default:
            // 5xx, 404 (wrong URL), 3xx (redirects are not followed for a POST), 408, anything else:
            // nothing about the content itself, so try again later.
            self = .retryLater(reason: reason, retryAfterMilliseconds: nil)
        }
    }

    /// "401 Unauthorized: unknown token": status, reason phrase, and the collector's own reason.
    static func describe(status: Int, reasonPhrase: String, body: CollectorReplyBody) -> String {
        var text = "\(status)"
        let phrase = reasonPhrase.isEmpty ? standardReasonPhrase(status) : reasonPhrase
        if !phrase.isEmpty { text += " \(phrase)" }
        if let reason = body.reason, !reason.isEmpty { text += ": \(reason)" }
        return text
    }

    private static func standardReasonPhrase(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 408: "Request Timeout"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: ""
        }
    }
}
