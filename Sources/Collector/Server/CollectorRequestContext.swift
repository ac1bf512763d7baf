import Hummingbird
import NIOCore

/// The context of one request: Hummingbird's core values and the connection it came on, through
/// which the client certificate of a TLS connection is found.
public struct CollectorRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection; its `NIOSSLHandler` holds the verified client certificate.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = CoreRequestContextStorage(source: source)
        self.channel = source.channel
    }
}
