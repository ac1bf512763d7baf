import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A second, diagnostic TLS connection to the collector that reads the certificate chain it
/// presents without judging it, then hangs up (no request is sent).
///
/// Used only after a handshake failed with `CERTIFICATE_VERIFY_FAILED`, to find out why.
enum ServerCertificateProbe {
    /// The chain the collector presents (its own certificate first), or nil when it could not be
    /// read (connection refused, handshake failure before the certificate, timeout).
    static func presentedChain(
        endpoint: CollectorEndpoint,
        tlsConfiguration: TLSConfiguration,
        timeout: TimeAmount
    ) async -> [NIOSSLCertificate]? {
        let captured = CapturedChain()
        do {
            let context = try NIOSSLContext(configuration: tlsConfiguration)
            // SNI takes a name, never an IP address.
            let serverName = (try? SocketAddress(ipAddress: endpoint.host, port: 0)) == nil ? endpoint.host : nil
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = try NIOSSLClientHandler(
                            context: context,
                            serverHostname: serverName,
                            customVerificationCallback: { certificates, verdict in
                                captured.store(certificates)
                                // The chain is all we came for: end the handshake here.
                                verdict.succeed(.failed)
                            }
                        )
                        try channel.pipeline.syncOperations.addHandler(handler)
                        try channel.pipeline.syncOperations.addHandler(CloseOnError())
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port)
                .get()
            let deadline = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
            try? await channel.closeFuture.get()
            deadline.cancel()
        } catch {
            return captured.chain
        }
        return captured.chain
    }
}

/// The chain seen by the verification callback, which runs on the channel's event loop.
private final class CapturedChain: Sendable {
    private let certificates = Mutex<[NIOSSLCertificate]?>(nil)

    func store(_ chain: [NIOSSLCertificate]) { certificates.withLock { $0 = chain } }
    var chain: [NIOSSLCertificate]? { certificates.withLock { $0 } }
}

/// Closes the probe's connection on the handshake error it provokes.
private final class CloseOnError: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

extension ServerCertificateDiagnosis.Certificate {
    init(_ certificate: NIOSSLCertificate) {
        self.init(
            names: (try? certificate.toDERBytes()).flatMap(CertificateNames.init(der:)),
            notValidBefore: Int64(certificate.notValidBefore),
            notValidAfter: Int64(certificate.notValidAfter)
        )
    }
}
