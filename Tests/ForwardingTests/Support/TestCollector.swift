import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A small HTTP(S) server on 127.0.0.1 standing in for the collector: it records every request and
/// answers what the test's responder says.
final class TestCollector: Sendable {
    /// A request as received: head fields and the raw (still encoded) body.
    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    /// What to answer.
    struct Reply: Sendable {
        /// How the reply goes out.
        enum Pace: Sendable {
            case atOnce
            /// The head at once, then the body one byte per interval: a collector that answers
            /// too slowly.
            case byteEvery(TimeAmount)
            /// Nothing at all, ever: a collector that accepts requests and never answers.
            case never
        }

        var status: Int
        var headers: [(String, String)] = []
        var body: String = ""
        var pace: Pace = .atOnce

        /// No reply, ever.
        static let silence = Reply(status: 200, pace: .never)

        static func accepted(_ count: Int = 1) -> Reply {
            Reply(
                status: 200,
                headers: [("Content-Type", "application/json")],
                body: #"{"accepted":\#(count),"created":\#(count),"updated":0,"unchanged":0,"incidents":[]}"#
            )
        }

        static func error(_ status: Int, _ reason: String, headers: [(String, String)] = []) -> Reply {
            Reply(
                status: status,
                headers: [("Content-Type", "application/json")] + headers,
                body: #"{"error":"\#(reason)"}"#
            )
        }
    }

    /// Decides the reply to a request; `index` counts the requests received before it.
    typealias Responder = @Sendable (_ request: Request, _ index: Int) -> Reply

    let port: Int
    let usesTLS: Bool
    private let channel: any Channel
    private let received = Mutex<[Request]>([])

    var url: String { (usesTLS ? "https" : "http") + "://127.0.0.1:\(port)" }
    var requests: [Request] { received.withLock { $0 } }

    private init(channel: any Channel, usesTLS: Bool) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
        self.usesTLS = usesTLS
    }

    /// Starts listening on 127.0.0.1 (a free port); with `tls`, speaks HTTPS. With
    /// `hangUpAfterHandshake`, closes every connection when the first request bytes arrive after
    /// the TLS handshake, as a server that refuses a client certificate after a TLS 1.3 handshake
    /// may do.
    static func start(
        tls: TLSConfiguration? = nil,
        hangUpAfterHandshake: Bool = false,
        responder: @escaping Responder
    ) async throws -> TestCollector {
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        let box = CollectorBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let sslContext { try sync.addHandler(NIOSSLServerHandler(context: sslContext)) }
                    if hangUpAfterHandshake { try sync.addHandler(HangUpAfterHandshake()) }
                    try sync.configureHTTPServerPipeline()
                    try sync.addHandler(RequestHandler(box: box, responder: responder))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let collector = TestCollector(channel: channel, usesTLS: tls != nil)
        box.collector.withLock { $0 = collector }
        return collector
    }

    /// Server TLS with `certificate` (a file of TestCertificates) and, with `clientCA`, requiring a
    /// client certificate issued by that CA.
    static func tls(
        _ certificates: TestCertificates,
        certificate: String = "server.pem",
        clientCA: String? = nil,
        maximumVersion: TLSVersion? = nil
    ) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificates.path(certificate)).map {
                .certificate($0)
            },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: certificates.path("server.key"), format: .pem))
        )
        configuration.maximumTLSVersion = maximumVersion
        if let clientCA {
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificates.path(clientCA)))
        }
        return configuration
    }

    fileprivate func record(_ request: Request) -> Int {
        received.withLock { requests in
            requests.append(request)
            return requests.count - 1
        }
    }

    /// Waits until `count` requests arrived (or `seconds` passed); returns the requests received.
    @discardableResult
    func waitForRequests(_ count: Int, seconds: Double = 30) async throws -> [Request] {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while requests.count < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        return requests
    }

    func stop() async {
        try? await channel.close()
    }
}

/// Lets the child handlers reach the collector created after the bootstrap.
private final class CollectorBox: Sendable {
    let collector = Mutex<TestCollector?>(nil)
}

/// Closes the connection when the first (decrypted) bytes arrive, before any HTTP is parsed.
private final class HangUpAfterHandshake: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.close(promise: nil)
    }
}

private final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let box: CollectorBox
    private let responder: TestCollector.Responder
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(box: CollectorBox, responder: @escaping TestCollector.Responder) {
        self.box = box
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head, let collector = box.collector.withLock({ $0 }) else { return }
            let request = TestCollector.Request(
                method: head.method.rawValue,
                uri: head.uri,
                headers: head.headers.map { ($0.name, $0.value) },
                body: body
            )
            let index = collector.record(request)
            let reply = responder(request, index)
            self.head = nil
            if case .never = reply.pace { return }
            var headers = HTTPHeaders(reply.headers)
            headers.replaceOrAdd(name: "Content-Length", value: "\(reply.body.utf8.count)")
            let responseHead = HTTPResponseHead(
                version: head.version,
                status: HTTPResponseStatus(statusCode: reply.status),
                headers: headers
            )
            if case .byteEvery(let interval) = reply.pace {
                context.writeAndFlush(wrapOutboundOut(.head(responseHead)), promise: nil)
                trickle(Array(reply.body.utf8)[...], every: interval, context: context)
                return
            }
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reply.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    /// Sends `bytes` one at a time, `interval` apart, then ends the reply; stops when the client
    /// hung up.
    private func trickle(_ bytes: ArraySlice<UInt8>, every interval: TimeAmount, context: ChannelHandlerContext) {
        context.eventLoop.assumeIsolated().scheduleTask(in: interval) {
            guard context.channel.isActive else { return }
            guard let byte = bytes.first else {
                context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
                return
            }
            context.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: [byte])))), promise: nil)
            self.trickle(bytes.dropFirst(), every: interval, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
