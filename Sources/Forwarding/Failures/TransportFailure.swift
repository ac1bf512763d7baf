import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

/// Why a request did not get any HTTP reply, in categories people act on differently.
enum TransportFailure: Sendable, Equatable {
    /// Our side refused the collector's certificate chain (`CERTIFICATE_VERIFY_FAILED`): unknown CA,
    /// expired, …; ``ServerCertificateDiagnosis`` tells which.
    case serverCertificateRejected
    /// The collector's certificate is not valid for the host name (or IP address) of the URL.
    case hostnameMismatch
    /// The collector refused the client certificate we sent (a TLS alert such as "unknown CA",
    /// or the connection dropped during or just after the handshake).
    case clientCertificateRefused(detail: String)
    /// The collector wants a client certificate and none is configured.
    case clientCertificateRequired(detail: String)
    /// Any other TLS failure (alert or library error), described.
    case tls(detail: String)
    case connectionRefused
    case connectTimeout
    case tlsHandshakeTimeout
    /// Connected, but no complete reply (head and body) within the request timeout: a collector
    /// that does not answer, or one that answers too slowly (a byte a second).
    case noReply
    /// The collector closed or reset the connection before its reply (`detail`: "reset the connection").
    case connectionClosed(detail: String)
    case hostNotFound(detail: String)
    case other(detail: String)

    /// Classifies what the HTTP client threw. `presentsClientCertificate`: a client certificate is
    /// configured (so a refusal by the server during the handshake is most likely about it);
    /// `onNewConnection`: the request went out on a connection opened for it, so the TLS handshake
    /// had just taken place (a TLS 1.3 server judges the client certificate after the client has
    /// finished its handshake, and may simply hang up).
    init(_ error: any Error, presentsClientCertificate: Bool, onNewConnection: Bool = true) {
        let justAfterHandshake = presentsClientCertificate && onNewConnection
        let text = String(reflecting: error)
        let tlsReasons = BoringSSLReasons(errorText: text)
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            self = .hostnameMismatch
        } else if tlsReasons.names.contains("CERTIFICATE_VERIFY_FAILED") {
            self = .serverCertificateRejected
        } else if let alert = tlsReasons.alert {
            if alert.concernsClientCertificate, presentsClientCertificate {
                self = .clientCertificateRefused(detail: "TLS alert from the collector: \(alert.name)")
            } else if alert.asksForClientCertificate, !presentsClientCertificate {
                self = .clientCertificateRequired(detail: "TLS alert from the collector: \(alert.name)")
            } else {
                self = .tls(detail: "TLS alert from the collector: \(alert.name)")
            }
        } else if let error = error as? HTTPClientError, let failure = Self.classify(error, justAfterHandshake) {
            self = failure
        } else if let error = error as? NIOConnectionError {
            if let dnsError = error.dnsAError ?? error.dnsAAAAError {
                self = .hostNotFound(detail: "\(dnsError)")
            } else if error.connectionErrors.contains(where: { Self.errno(of: $0.error) == ECONNREFUSED }) {
                self = .connectionRefused
            } else {
                self = .other(detail: "\(error)")
            }
        } else if let code = Self.errno(of: error) {
            switch code {
            case ECONNREFUSED: self = .connectionRefused
            case ECONNRESET, EPIPE:
                self = Self.droppedConnection("reset the connection", during: false, justAfterHandshake)
            case ETIMEDOUT: self = .connectTimeout
            default: self = .other(detail: "\(error)")
            }
        } else if let error = error as? NIOSSLError {
            switch error {
            case .uncleanShutdown:
                self = Self.droppedConnection(
                    "closed the connection without TLS close_notify",
                    during: false,
                    justAfterHandshake
                )
            case .handshakeFailed(let reason):
                if text.contains("EOF during handshake") || text.contains("syscallError") {
                    self = Self.droppedConnection("closed the connection", during: true, presentsClientCertificate)
                } else if !tlsReasons.names.isEmpty {
                    self = .tls(detail: "handshake failed: " + tlsReasons.names.joined(separator: ", "))
                } else {
                    self = .tls(detail: "handshake failed: \(reason)")
                }
            default:
                self = .tls(detail: "\(error)")
            }
        } else if text.contains("EOF during handshake") {
            self = Self.droppedConnection("closed the connection", during: true, presentsClientCertificate)
        } else {
            self = .other(detail: "\(error)")
        }
    }

    private static func classify(_ error: HTTPClientError, _ justAfterHandshake: Bool) -> TransportFailure? {
        switch error {
        case .connectTimeout: .connectTimeout
        case .tlsHandshakeTimeout: .tlsHandshakeTimeout
        case .readTimeout, .deadlineExceeded, .writeTimeout: .noReply
        case .remoteConnectionClosed:
            droppedConnection("closed the connection", during: false, justAfterHandshake)
        case .uncleanShutdown:
            droppedConnection("closed the connection without TLS close_notify", during: false, justAfterHandshake)
        default: nil
        }
    }

    /// The collector hung up (`what` it did: "reset the connection", …) before replying. A TLS 1.3
    /// server checks the client certificate after the client considers the handshake done; if it
    /// then hangs up without an alert, that is all the client sees.
    /// `during`: in the TLS handshake rather than after it.
    private static func droppedConnection(
        _ what: String,
        during: Bool,
        _ aboutClientCertificate: Bool
    ) -> TransportFailure {
        let moment = during ? "during the TLS handshake" : "right after the TLS handshake"
        return aboutClientCertificate
            ? .clientCertificateRefused(detail: "the collector \(what) \(moment)")
            : .connectionClosed(detail: during ? "\(what) during the TLS handshake" : what)
    }

    private static func errno(of error: any Error) -> Int32? {
        if let error = error as? IOError { return error.errnoCode }
        if let error = error as? ChannelError, case .connectTimeout = error { return ETIMEDOUT }
        return nil
    }

    /// The reason for `lastError` and the log.
    func reason(endpoint: CollectorEndpoint, configuration: ForwardConfiguration) -> String {
        switch self {
        case .serverCertificateRejected:
            return "TLS: the collector's certificate was not accepted (CERTIFICATE_VERIFY_FAILED)"
        case .hostnameMismatch:
            return "TLS: hostname mismatch: the collector's certificate is not valid for \"\(endpoint.host)\" "
                + "(its subjectAltName must name the host of forward.url)"
        case .clientCertificateRefused(let detail):
            return "TLS: client certificate refused by the collector (\(detail)); is "
                + "\(configuration.certFile ?? "forward.certFile") issued by a CA the collector trusts, and valid?"
        case .clientCertificateRequired(let detail):
            return "TLS: the collector requires a client certificate and none is configured (\(detail)); "
                + "set forward.certFile and forward.keyFile"
        case .tls(let detail):
            if detail.contains("WRONG_VERSION_NUMBER") {
                return "TLS: \(detail) (does \(endpoint.authority) speak TLS? use http:// for a plain HTTP collector)"
            }
            return "TLS: \(detail)"
        case .connectionRefused:
            return "connection refused by \(endpoint.authority) (is the collector running?)"
        case .connectTimeout:
            return "timeout: no connection to \(endpoint.baseURL) within "
                + "\(configuration.connectTimeoutMilliseconds) ms (forward.connectTimeoutMilliseconds)"
        case .tlsHandshakeTimeout:
            return "timeout: TLS handshake with \(endpoint.baseURL) not done within "
                + "\(configuration.connectTimeoutMilliseconds) ms (forward.connectTimeoutMilliseconds)"
        case .noReply:
            return "timeout: no complete reply from \(endpoint.baseURL) within "
                + "\(configuration.requestTimeoutMilliseconds) ms (forward.requestTimeoutMilliseconds)"
        case .connectionClosed(let detail):
            return "the collector (\(endpoint.authority)) \(detail) before replying"
        case .hostNotFound(let detail):
            return "cannot resolve \(endpoint.host): \(detail)"
        case .other(let detail):
            return detail
        }
    }
}

/// The reasons BoringSSL gives in an error (`error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA
/// at …` gives `TLSV1_ALERT_UNKNOWN_CA`), in order.
struct BoringSSLReasons: Sendable, Equatable {
    var names: [String] = []

    init(errorText: String) {
        var rest = Substring(errorText)
        while let range = rest.firstRange(of: "OPENSSL_internal:") {
            rest = rest[range.upperBound...]
            let name = rest.prefix { $0.isUppercase || $0.isNumber || $0 == "_" }
            if !name.isEmpty { names.append(String(name)) }
        }
    }

    /// The first TLS alert received from the peer, if any.
    var alert: TLSAlert? { names.lazy.compactMap(TLSAlert.init(reason:)).first }
}

/// A TLS alert the collector sent, as BoringSSL names it in its error (`TLSV1_ALERT_UNKNOWN_CA`).
struct TLSAlert: Sendable, Equatable {
    /// BoringSSL's name without prefix: `UNKNOWN_CA`.
    var code: String

    init?(reason: String) {
        for prefix in ["SSLV3_ALERT_", "TLSV1_ALERT_"] where reason.hasPrefix(prefix) && reason.count > prefix.count {
            code = String(reason.dropFirst(prefix.count))
            return
        }
        return nil
    }

    /// The alert in words: "unknown CA", "bad certificate".
    var name: String {
        switch code {
        case "UNKNOWN_CA": "unknown CA"
        default: code.lowercased().replacingOccurrences("_", " ")
        }
    }

    /// Alerts a server sends when it does not accept the client's certificate.
    var concernsClientCertificate: Bool {
        [
            "BAD_CERTIFICATE", "UNSUPPORTED_CERTIFICATE", "CERTIFICATE_REVOKED", "CERTIFICATE_EXPIRED",
            "CERTIFICATE_UNKNOWN", "UNKNOWN_CA", "ACCESS_DENIED", "CERTIFICATE_REQUIRED", "HANDSHAKE_FAILURE",
            "DECRYPT_ERROR",
        ].contains(code)
    }

    /// Alerts a server sends when the client presented no certificate although one is required.
    var asksForClientCertificate: Bool {
        ["CERTIFICATE_REQUIRED", "HANDSHAKE_FAILURE", "BAD_CERTIFICATE"].contains(code)
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: Character, _ replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
