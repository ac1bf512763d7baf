import NIOSSL

extension TLSConfiguration {
    /// How the forwarder talks TLS to its collector: TLS 1.2 at least; the collector's certificate
    /// verified against `forward.caFile` only when set (else the system trust store), with its host
    /// name; our client certificate and key when configured (mutual TLS).
    static func collectorClient(_ credentials: ForwarderCredentials) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let trusted = credentials.trustedCAs {
            configuration.trustRoots = .certificates(trusted)
        } else {
            configuration.trustRoots = .default
        }
        if let key = credentials.clientKey {
            configuration.certificateChain = credentials.clientCertificateChain.map { .certificate($0) }
            configuration.privateKey = .privateKey(key)
        }
        return configuration
    }

    /// Checks that the TLS library takes this configuration (a client key that does not belong to
    /// the client certificate is refused here, at start-up, rather than at the first connection).
    func validateForCollector(_ configuration: ForwardConfiguration) throws(ForwarderSetupError) {
        do {
            _ = try NIOSSLContext(configuration: self)
        } catch NIOSSLError.failedToLoadPrivateKey {
            throw .tls(
                reason: "the key in \(configuration.keyFile ?? "forward.keyFile") does not belong to the certificate "
                    + "in \(configuration.certFile ?? "forward.certFile") (or cannot be used)"
            )
        } catch {
            throw .tls(reason: "\(error)")
        }
    }
}
