import CollectorStorage

/// What a request wants to do, as far as authentication is concerned.
public enum AccessKind: Sendable, Equatable {
    /// `POST /api/v1/incidents`: agents sending incidents.
    case ingest
    /// The web page and `GET /api/v1/incidents`: people and tools reading incidents.
    case read

    /// The role a credential needs for this kind of request.
    public var role: CredentialRole {
        switch self {
        case .ingest: .agent
        case .read: .reader
        }
    }
}

/// Who a request was accepted from.
public struct AuthenticatedClient: Sendable, Equatable {
    public enum Method: Sendable, Equatable {
        /// A client certificate verified during the TLS handshake whose subject CN is a registered,
        /// non-revoked agent; `name` is that CN.
        case certificate
        /// A bearer token (or a token as the Basic password); `name` is its credential's name.
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
    /// A read request without a bearer token or Basic credentials.
    case missingCredentials
    /// The token is not one the store knows, or its credential was revoked.
    case unknownToken
    /// The client certificate's CN is not a registered agent, or that agent was revoked.
    case unknownCertificateName(String)
    /// `Authorization: Bearer` or `Basic` with nothing usable after it.
    case malformedAuthorization(scheme: String)

    public var description: String {
        switch self {
        case .missingBearerToken: "missing bearer token"
        case .missingCredentials:
            "missing credentials: use a reader's token as bearer token or as the Basic password"
        case .unknownToken: "unknown token"
        case .unknownCertificateName(let name):
            "client certificate CN \"\(name)\" is not a registered agent (or it was revoked)"
        case .malformedAuthorization(let scheme): "malformed \(scheme) authorization"
        }
    }

    /// The `reason` label of the auth failure metric.
    public var metricReason: String {
        switch self {
        case .missingBearerToken, .missingCredentials: "missing"
        case .unknownToken, .unknownCertificateName: "unknown"
        case .malformedAuthorization: "malformed"
        }
    }
}

/// What ``AccessPolicy/decide(_:certificateName:credential:)`` concluded.
public enum AccessDecision: Sendable, Equatable {
    case allow(AuthenticatedClient)
    /// The token decides: its credential must be known, not revoked, and of the kind's role; with
    /// `certificateName`, that agent must be registered too and own the token.
    case checkToken(String, certificateName: String?)
    /// The certificate alone decides: its CN must be a registered, non-revoked agent.
    case checkCertificate(String)
    case deny(AuthenticationFailure)
}

/// The authentication rules, without I/O.
///
/// - Ingest (agents): a verified client certificate whose CN is a registered agent authenticates,
///   and a bearer token is then optional, but one that is sent must be that agent's; without a
///   certificate a bearer token of an agent is needed. Basic credentials do not count for ingest.
/// - Read (`web.auth: token`, readers): a reader's token as bearer token, or as the password of
///   Basic with any user name. Client certificates identify agents, never readers, so they do not
///   count for reading; agents' tokens read nothing.
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
        let certificateName = usesClientCertificates && kind == .ingest ? certificateName : nil
        switch credential {
        case .bearer(let token):
            return .checkToken(token, certificateName: certificateName)
        case .basic(_, let password) where kind == .read:
            return .checkToken(password, certificateName: nil)
        case .malformed(let scheme) where kind == .read || scheme == "Bearer":
            return .deny(.malformedAuthorization(scheme: scheme))
        case .none, .basic, .malformed, .otherScheme:
            if let certificateName { return .checkCertificate(certificateName) }
            return .deny(kind == .ingest ? .missingBearerToken : .missingCredentials)
        }
    }
}
