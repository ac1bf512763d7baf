/// What a request wants to do, as far as authentication is concerned.
public enum AccessKind: Sendable, Equatable {
    /// `POST /api/v1/incidents`: agents sending incidents.
    case ingest
    /// The web page and `GET /api/v1/incidents`: people and tools reading incidents.
    case read
}

/// Who a request was accepted from.
public struct AuthenticatedClient: Sendable, Equatable {
    public enum Method: Sendable, Equatable {
        /// A client certificate verified during the TLS handshake; `name` is its subject CN.
        case certificate
        /// A bearer token (or a token as the Basic password); `name` is the agent's name.
        case token
        /// `web.auth: off`.
        case anonymous
    }

    public var name: String
    public var method: Method

    public init(name: String, method: Method) {
        self.name = name
        self.method = method
    }

    public static let anonymous = AuthenticatedClient(name: "anonymous", method: .anonymous)
}

/// Why a request was not authenticated; each is a 401.
public enum AuthenticationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// An ingest request without a certificate or `Authorization: Bearer`.
    case missingBearerToken
    /// A read request without a certificate, bearer token or Basic credentials.
    case missingCredentials
    /// The token is not one the store knows, or its agent was revoked.
    case unknownToken
    /// `Authorization: Bearer` or `Basic` with nothing usable after it.
    case malformedAuthorization(scheme: String)

    public var description: String {
        switch self {
        case .missingBearerToken: "missing bearer token"
        case .missingCredentials:
            "missing credentials: use a client certificate, a bearer token, or a token as password"
        case .unknownToken: "unknown token"
        case .malformedAuthorization(let scheme): "malformed \(scheme) authorization"
        }
    }

    /// The `reason` label of the auth failure metric.
    public var metricReason: String {
        switch self {
        case .missingBearerToken, .missingCredentials: "missing"
        case .unknownToken: "unknown"
        case .malformedAuthorization: "malformed"
        }
    }
}

/// What ``AccessPolicy/decide(_:certificateName:credential:)`` concluded.
public enum AccessDecision: Sendable, Equatable {
    case allow(AuthenticatedClient)
    /// The token decides: if the store knows it, the request is accepted, from
    /// `certificateName` when there is one, else from the token's agent.
    case checkToken(String, certificateName: String?)
    case deny(AuthenticationFailure)
}

/// The authentication rules, without I/O.
///
/// - Ingest: a verified client certificate authenticates (its subject CN names the agent), and a
///   bearer token is then optional, but one that is sent must be valid; without a certificate a
///   bearer token is needed. Basic credentials do not count for ingest.
/// - Read (`web.auth: token`): a verified client certificate, a bearer token, or Basic with any
///   user name and a token as password; a token that is sent must be valid.
/// - Read (`web.auth: off`): everyone.
///
/// A certificate counts only when `tls.clientAuth` is `required` or `optional` (NIOSSL then
/// verified it against `tls.clientCAFile` during the handshake).
public struct AccessPolicy: Sendable, Equatable {
    public var clientAuth: CollectorConfiguration.ClientAuth
    public var webAuth: CollectorConfiguration.WebAuth

    public init(clientAuth: CollectorConfiguration.ClientAuth, webAuth: CollectorConfiguration.WebAuth) {
        self.clientAuth = clientAuth
        self.webAuth = webAuth
    }

    /// Whether client certificates are asked for (and so worth looking up).
    public var usesClientCertificates: Bool { clientAuth != .off }

    /// Whether requests of this kind need authenticating at all.
    public func requiresAuthentication(_ kind: AccessKind) -> Bool {
        kind == .ingest || webAuth == .token
    }

    public func decide(
        _ kind: AccessKind,
        certificateName: String?,
        credential: PresentedCredential
    ) -> AccessDecision {
        guard requiresAuthentication(kind) else { return .allow(.anonymous) }
        let certificateName = usesClientCertificates ? certificateName : nil
        let byCertificate = certificateName.map { AuthenticatedClient(name: $0, method: .certificate) }
        switch credential {
        case .bearer(let token):
            return .checkToken(token, certificateName: certificateName)
        case .basic(_, let password) where kind == .read:
            return .checkToken(password, certificateName: certificateName)
        case .malformed(let scheme) where kind == .read || scheme == "Bearer":
            return .deny(.malformedAuthorization(scheme: scheme))
        case .none, .basic, .malformed, .otherScheme:
            if let byCertificate { return .allow(byCertificate) }
            return .deny(kind == .ingest ? .missingBearerToken : .missingCredentials)
        }
    }
}
