/// What kind of failure the forwarder's last one was: few values, each a different thing to look
/// at, for `/metrics` (`execwatch_forward_last_failure{kind="…"}`); ``ForwarderStatus/lastError``
/// has the words (which timeout, which collector URL, the collector's reason).
public enum ForwardFailureKind: String, Sendable, Equatable {
    /// No connection within `forward.connectTimeoutMilliseconds` (TLS handshake included).
    case connectTimeout = "connect_timeout"
    /// Connected, but no complete reply within `forward.requestTimeoutMilliseconds`.
    case requestTimeout = "request_timeout"
    case connectionRefused = "connection_refused"
    /// The collector hung up before replying.
    case connectionClosed = "connection_closed"
    case hostNotFound = "host_not_found"
    case tls
    /// 401 or 403.
    case unauthorized
    /// 429 or 503: the collector asked to come back later (its storage full or unreachable, …).
    case collectorUnavailable = "collector_unavailable"
    /// Any other HTTP status that is not the content's fault (5xx, 404, …).
    case collectorError = "collector_error"
    /// The agent's own journal failed (reading the outbox, acknowledging).
    case journal
    case other

    /// The kind of a reply's failure, by its HTTP status.
    init(httpStatus: Int) {
        switch httpStatus {
        case 401, 403: self = .unauthorized
        case 429, 503: self = .collectorUnavailable
        default: self = .collectorError
        }
    }
}

extension TransportFailure {
    var kind: ForwardFailureKind {
        switch self {
        case .serverCertificateRejected, .hostnameMismatch, .clientCertificateRefused, .clientCertificateRequired, .tls:
            .tls
        case .connectionRefused: .connectionRefused
        case .connectTimeout, .tlsHandshakeTimeout: .connectTimeout
        case .noReply: .requestTimeout
        case .connectionClosed: .connectionClosed
        case .hostNotFound: .hostNotFound
        case .other: .other
        }
    }
}
