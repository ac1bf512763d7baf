import ConfigurationFiles
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

/// The TLS settings of the server, from the `tls.*` keys.
///
/// TLS 1.2 at least. `clientAuth: required`: the handshake fails without a client certificate
/// chaining to `tls.clientCAFile` (NIOSSL `.noHostnameVerification`); `optional`: a certificate
/// is verified against it when shown (`.optionalVerification`); `off`: none is asked for. Only
/// `tls.clientCAFile` is trusted for client certificates, not the system's roots.
public enum ServerTLS {
    /// The TLS configuration, or nil for plain HTTP; throws when a file cannot be read or the key
    /// does not fit the certificate.
    public static func configuration(
        for tls: CollectorConfiguration.TLS
    ) throws(ConfigurationError) -> TLSConfiguration? {
        guard let certFile = tls.certFile, let keyFile = tls.keyFile else { return nil }
        let chain = try load("tls.certFile", certFile) { try NIOSSLCertificate.fromPEMFile($0) }
        guard !chain.isEmpty else {
            throw ConfigurationError(location: "tls.certFile \(certFile)", message: "holds no PEM certificate")
        }
        let key = try load("tls.keyFile", keyFile) { try NIOSSLPrivateKey(file: $0, format: .pem) }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        switch tls.clientAuth {
        case .off:
            configuration.certificateVerification = .none
        case .required, .optional:
            guard let caFile = tls.clientCAFile else {
                throw ConfigurationError(location: "tls.clientCAFile", message: "is needed for client certificates")
            }
            let roots = try load("tls.clientCAFile", caFile) { try NIOSSLCertificate.fromPEMFile($0) }
            guard !roots.isEmpty else {
                throw ConfigurationError(location: "tls.clientCAFile \(caFile)", message: "holds no PEM certificate")
            }
            configuration.trustRoots = .certificates(roots)
            configuration.sendCANameList = true
            configuration.certificateVerification =
                tls.clientAuth == .required ? .noHostnameVerification : .optionalVerification
        }
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigurationError(
                location: "tls.certFile \(certFile), tls.keyFile \(keyFile)",
                message: "unusable: \(error)"
            )
        }
        return configuration
    }

    private static func load<Value>(
        _ key: String,
        _ path: String,
        _ read: (String) throws -> Value
    ) throws(ConfigurationError) -> Value {
        // NIOSSL's errors do not say why a file could not be read; the system does.
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ConfigurationError(location: "\(key) \(path)", message: String(cString: strerror(errno)))
        }
        close(fd)
        do {
            return try read(path)
        } catch {
            throw ConfigurationError(location: "\(key) \(path)", message: "cannot read PEM: \(error)")
        }
    }
}
