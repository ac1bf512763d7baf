import CollectorStorage
import ConfigurationFiles
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The collector's HTTP(S) server over a store: the ``CollectorRouter`` in a Hummingbird
/// application, with TLS when certificates are configured.
///
/// ``run()`` serves until SIGTERM or SIGINT, then finishes the requests in flight and returns;
/// closing the store is the caller's business (it opened it).
public struct CollectorServer: Sendable {
    /// Connections idle this long are closed.
    public static let idleTimeout = TimeAmount.seconds(75)

    public let configuration: CollectorConfiguration
    public let store: any CollectorStore
    public let metrics: CollectorMetrics
    public let logger: Logger

    public init(
        configuration: CollectorConfiguration,
        store: any CollectorStore,
        metrics: CollectorMetrics = CollectorMetrics(),
        logger: Logger
    ) {
        self.configuration = configuration
        self.store = store
        self.metrics = metrics
        self.logger = logger
    }

    /// The application, ready to run or test; throws when the TLS files are unusable.
    /// `onServerRunning` is called once the address is bound.
    public func makeApplication(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws(ConfigurationError) -> Application<RouterResponder<CollectorRequestContext>> {
        let tls = try ServerTLS.configuration(for: configuration.tls)
        let router = CollectorRouter.make(configuration: configuration, store: store, metrics: metrics)
        let address = ApplicationConfiguration(
            address: .hostname(configuration.listen.host, port: configuration.listen.port)
        )
        guard let tls else {
            return Application(
                router: router,
                server: .http1(configuration: .init(idleTimeout: Self.idleTimeout)),
                configuration: address,
                onServerRunning: onServerRunning,
                logger: logger
            )
        }
        do {
            return Application(
                router: router,
                server: try .tls(.http1(configuration: .init(idleTimeout: Self.idleTimeout)), tlsConfiguration: tls),
                configuration: address,
                onServerRunning: onServerRunning,
                logger: logger
            )
        } catch {
            throw ConfigurationError(location: "tls", message: "unusable: \(error)")
        }
    }

    /// Serves until SIGTERM or SIGINT. An address that cannot be bound is a ``ListenError``.
    public func run() async throws {
        let scheme = configuration.tls.isEnabled ? "https" : "http"
        let (listen, logger) = (configuration.listen, logger)
        let metadata: Logger.Metadata = [
            "clientAuth": "\(configuration.tls.clientAuth.rawValue)",
            "webAuth": "\(configuration.webAuth.rawValue)",
        ]
        let application = try makeApplication { _ in
            logger.info("serving on \(scheme)://\(listen)", metadata: metadata)
        }
        do {
            try await application.runService()
        } catch let error as IOError where error.isBinding {
            throw ListenError(listen: "\(listen)", errno: error.errnoCode)
        }
        logger.info("stopped")
    }
}

/// The `listen` address could not be bound: one line saying which address, why, and what to do.
public struct ListenError: Error, CustomStringConvertible {
    public var listen: String
    public var errno: Int32

    public var description: String {
        switch errno {
        case EADDRINUSE:
            "cannot listen on \(listen): the port is already in use by another program; set `listen` (or EXECWATCH_COLLECTOR_LISTEN) to a free port"
        case EACCES:
            "cannot listen on \(listen): permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)"
        case EADDRNOTAVAIL:
            "cannot listen on \(listen): no interface of this host has that address"
        default:
            "cannot listen on \(listen): \(String(cString: strerror(errno))) (errno \(errno))"
        }
    }
}

extension IOError {
    /// Whether the failed call was `bind` (NIO names it, e.g. `bind(descriptor:ptr:bytes:)`).
    fileprivate var isBinding: Bool { "\(self)".hasPrefix("bind(") }
}
