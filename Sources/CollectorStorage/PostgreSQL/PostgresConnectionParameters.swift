#if canImport(Glibc)
import Glibc
#endif

/// The keywords and values libpq connects with (`PQconnectdbParams`), from a
/// ``PostgresLocation``: host, port, user, password, dbname, sslmode (passed through), sslrootcert,
/// and the schema as the session's `search_path` from the start.
struct PostgresConnectionParameters: Sendable {
    private(set) var keywords: [String] = []
    private(set) var values: [String] = []

    /// How long connecting may take, in seconds, before it fails.
    static let connectTimeoutSeconds = 10
    /// Debian's bundle of the system's CAs: what `verify-ca` and `verify-full` check the server's
    /// certificate against when the URL names no `sslrootcert` (libpq would look for
    /// `~/.postgresql/root.crt`).
    static let systemCertificates = "/etc/ssl/certs/ca-certificates.crt"

    init(_ location: PostgresLocation) {
        add("host", location.host)
        add("port", "\(location.port)")
        add("user", location.username)
        if let password = location.password { add("password", password) }
        add("dbname", location.database)
        add("sslmode", location.tlsMode.rawValue)
        switch (location.sslRootCertificate, location.tlsMode) {
        case (let path?, _): add("sslrootcert", path)
        case (nil, .verifyCA), (nil, .verifyFull): add("sslrootcert", Self.systemCertificates)
        default: break
        }
        add("connect_timeout", "\(Self.connectTimeoutSeconds)")
        // TCP keepalives: a server that vanished (power loss, network partition) is found out
        // within about a minute, instead of a statement waiting for its reply for ever.
        add("keepalives", "1")
        add("keepalives_idle", "30")
        add("keepalives_interval", "10")
        add("keepalives_count", "3")
        add("client_encoding", "UTF8")
        add("application_name", "execwatch-collector")
        // A plain identifier (checked when the URL was read): nothing to quote or escape.
        if let schema = location.schema { add("options", "-c search_path=\(schema)") }
    }

    private mutating func add(_ keyword: String, _ value: String) {
        keywords.append(keyword)
        values.append(value)
    }

    /// Calls `body` with the NULL-terminated arrays of C strings `PQconnectdbParams` takes.
    func withCArrays<Result>(
        _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> Result
    ) -> Result {
        let keywordCopies = keywords.map { UnsafePointer(strdup($0)) } + [nil]
        let valueCopies = values.map { UnsafePointer(strdup($0)) } + [nil]
        defer {
            for copy in keywordCopies + valueCopies { free(UnsafeMutablePointer(mutating: copy)) }
        }
        return keywordCopies.withUnsafeBufferPointer { keywords in
            valueCopies.withUnsafeBufferPointer { values in body(keywords.baseAddress!, values.baseAddress!) }
        }
    }
}
