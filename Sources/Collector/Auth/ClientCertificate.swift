import NIOCore
import NIOSSL

/// The client certificate of a TLS connection, as NIOSSL verified it during the handshake.
public enum ClientCertificate {
    /// The subject CN of the certificate the peer presented on `channel`; nil without TLS, without
    /// a certificate, or without a CN.
    ///
    /// NIOSSL keeps the certificate in the connection's `NIOSSLHandler`, which may only be read on
    /// the channel's event loop: `nioSSL_peerCertificate()` hops there. A certificate is only ever
    /// present when the handshake verified it against `tls.clientCAFile` (`clientAuth: required`
    /// refuses connections without one; `optional` refuses invalid ones).
    static func verifiedCommonName(of channel: any Channel) async -> String? {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get() else { return nil }
        return commonName(of: certificate)
    }

    /// The subject's common name (the most significant one when there are several, as RFC 6125
    /// says); nil when there is none or it is empty.
    static func commonName(of certificate: NIOSSLCertificate) -> String? {
        guard let name = certificate.subjectName.last(where: { $0.type == .commonName })?.value, !name.isEmpty else {
            return nil
        }
        return name
    }

    /// The subject CN of the first certificate of a PEM text (what a connection would be
    /// authenticated as); nil without a CN. Throws when the text holds no certificate.
    public static func commonName(pem: String) throws -> String? {
        try commonName(of: NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem))
    }
}
