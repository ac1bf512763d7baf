/// Everything `execwatch-collector serve` can be told, with the defaults an empty configuration
/// file gets.
///
/// Read from YAML (``CollectorConfigurationLoader``), then overridden by `EXECWATCH_COLLECTOR_…`
/// environment variables.
public struct CollectorConfiguration: Sendable, Equatable {
    /// Whether agents must show a client certificate during the TLS handshake.
    public enum ClientAuth: String, Sendable, CaseIterable {
        /// The handshake fails without a certificate that chains to `tls.clientCAFile`.
        case required
        /// A certificate is verified when one is shown; without one a token is needed.
        case optional
        /// No client certificates are asked for.
        case off
    }

    /// How the web page and the query API are protected.
    public enum WebAuth: String, Sendable, CaseIterable {
        /// A reader's token, as bearer token or as the Basic password.
        case token
        /// Open to whoever reaches the listen address.
        case off
    }

    /// The `tls.*` keys. Without `certFile` and `keyFile` the server speaks plain HTTP, which is
    /// allowed on a loopback address only.
    public struct TLS: Sendable, Equatable {
        public var certFile: String?
        public var keyFile: String?
        public var clientCAFile: String?
        public var clientAuth: ClientAuth = .off

        public init() {}

        /// Whether the server speaks TLS.
        public var isEnabled: Bool { certFile != nil && keyFile != nil }
    }

    /// The `limits.*` keys: what one request may carry.
    public struct Limits: Sendable, Equatable {
        /// The largest body, compressed as received and again after decompression.
        public var maxBodyBytes = 33_554_432
        /// The longest JSON string (in UTF-8 bytes) an incident may hold.
        public var maxStringBytes = 4_194_304

        public init() {}
    }

    public var listen = ListenAddress(host: "127.0.0.1", port: 8443)
    public var tls = TLS()
    /// Empty: SQLite in the state directory; an absolute path: that SQLite file;
    /// `postgres://…`: PostgreSQL.
    public var storageURL = ""
    public var stateDirectory = "/var/lib/execwatch-collector"
    public var limits = Limits()
    public var webAuth: WebAuth = .token

    public init() {}
}
