import AsyncHTTPClient
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// The forwarder's HTTP(S) client for one collector: one `HTTPClient` (so connections are kept
/// alive and reused) that posts batches to `/api/v1/incidents` and returns the collector's reply.
///
/// It does not retry: connection failures fail the request at once (the forwarder has its own
/// backoff), and redirects are not followed. Call ``shutdown()`` when done.
final class CollectorClient: Sendable {
    /// A reply of the collector, whatever its status.
    struct Reply: Sendable, Equatable {
        var status: Int
        var reasonPhrase: String
        var retryAfter: String?
        var body: [UInt8]
    }

    /// A request that got no reply: what the transport threw, and whether a new connection (TLS
    /// handshake included) had been opened for it, which tells a server that hangs up on our client
    /// certificate right after a TLS 1.3 handshake from a kept-alive connection that timed out.
    struct Failure: Error {
        var underlying: any Error
        var onNewConnection: Bool
    }

    let endpoint: CollectorEndpoint
    private let client: HTTPClient
    private let connections = ConnectionCounter()
    private let token: String?
    private let requestTimeout: TimeAmount
    private let logger: Logger

    /// Longest part of a reply body kept: the collector's answers are small, and only its reason
    /// is read from a failure.
    static let maximumReplyBytes = 1 << 20

    init(
        endpoint: CollectorEndpoint,
        tlsConfiguration: TLSConfiguration,
        token: String?,
        configuration: ForwardConfiguration,
        logger: Logger
    ) {
        var clientConfiguration = HTTPClient.Configuration(
            tlsConfiguration: endpoint.usesTLS ? tlsConfiguration : nil,
            redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(
                connect: .milliseconds(Int64(max(1, configuration.connectTimeoutMilliseconds))),
                read: .milliseconds(Int64(max(1, configuration.requestTimeoutMilliseconds)))
            ),
            decompression: .disabled
        )
        // Our own backoff decides when to try again, and needs the real reason at once.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        clientConfiguration.httpVersion = .http1Only
        let connections = self.connections
        // Called for every connection once it is set up (after its TLS handshake).
        clientConfiguration.http1_1ConnectionDebugInitializer = { channel in
            connections.opened.add(1, ordering: .relaxed)
            connections.open.add(1, ordering: .relaxed)
            channel.closeFuture.whenComplete { _ in connections.open.subtract(1, ordering: .relaxed) }
            return channel.eventLoop.makeSucceededVoidFuture()
        }
        self.client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: clientConfiguration,
            backgroundActivityLogger: logger
        )
        self.endpoint = endpoint
        self.token = token
        self.requestTimeout = .milliseconds(Int64(max(1, configuration.requestTimeoutMilliseconds)))
        self.logger = logger
    }

    /// Posts one body and reads the reply. Throws a ``Failure`` when the transport failed
    /// (connection, TLS, timeout); any HTTP status is a reply.
    func post(_ body: RequestBody) async throws(Failure) -> Reply {
        var request = HTTPClientRequest(url: endpoint.incidentsURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let encoding = body.contentEncoding { request.headers.add(name: "Content-Encoding", value: encoding) }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.headers.add(name: "User-Agent", value: "execwatch-agent")
        request.body = .bytes(body.bytes)
        let openedBefore = connections.opened.load(ordering: .relaxed)
        let reusable = connections.open.load(ordering: .relaxed) > 0
        // One deadline for the whole exchange: connecting, sending, the reply's head and its body.
        let deadline = NIODeadline.now() + requestTimeout
        do {
            let response = try await client.execute(request, deadline: deadline, logger: logger)
            let kept = try await Self.read(response.body, by: deadline)
            return Reply(
                status: Int(response.status.code),
                reasonPhrase: response.status.reasonPhrase,
                retryAfter: response.headers.first(name: "Retry-After"),
                body: kept
            )
        } catch {
            let onNewConnection = !reusable || connections.opened.load(ordering: .relaxed) != openedBefore
            throw Failure(underlying: error, onNewConnection: onNewConnection)
        }
    }

    /// Reads the whole reply body (so the connection can be reused) and keeps its start, or
    /// throws `HTTPClientError.deadlineExceeded` at `deadline`: the HTTP client's own deadline
    /// ends with the reply's head, and its read timeout restarts at every byte, so a collector
    /// that trickles its body (a byte a second) would otherwise hold the forwarder for as long as
    /// it likes. Giving up closes the connection.
    static func read(_ body: HTTPClientResponse.Body, by deadline: NIODeadline) async throws -> [UInt8] {
        try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask {
                var kept: [UInt8] = []
                for try await chunk in body where kept.count < maximumReplyBytes {
                    kept.append(contentsOf: chunk.readableBytesView.prefix(maximumReplyBytes - kept.count))
                }
                return kept
            }
            group.addTask {
                let left = deadline - NIODeadline.now()
                if left > .zero { try await Task.sleep(for: .nanoseconds(left.nanoseconds)) }
                return nil
            }
            defer { group.cancelAll() }
            guard case .some(.some(let kept)) = try await group.next() else {
                throw HTTPClientError.deadlineExceeded
            }
            return kept
        }
    }

    /// Closes the connections; the client cannot be used afterwards.
    func shutdown() async {
        do {
            try await client.shutdown()
        } catch {
            logger.debug("closing the HTTP client: \(error)")
        }
    }
}

/// Counts the connections the client has set up, and those still open.
private final class ConnectionCounter: Sendable {
    let opened = Atomic<Int>(0)
    let open = Atomic<Int>(0)
}
