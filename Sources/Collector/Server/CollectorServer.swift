import CollectorStorage
import ConfigurationFiles
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore

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
    public func makeApplication() throws(ConfigurationError) -> Application<RouterResponder<CollectorRequestContext>> {
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
                logger: logger
            )
        }
        do {
            return Application(
                router: router,
                server: try .tls(.http1(configuration: .init(idleTimeout: Self.idleTimeout)), tlsConfiguration: tls),
                configuration: address,
                logger: logger
            )
        } catch {
            throw ConfigurationError(location: "tls", message: "unusable: \(error)")
        }
    }

    /// Serves until SIGTERM or SIGINT.
    public func run() async throws {
        let application = try makeApplication()
        let scheme = configuration.tls.isEnabled ? "https" : "http"
        logger.info(
            "serving on \(scheme)://\(configuration.listen)",
            metadata: [
                "clientAuth": "\(configuration.tls.clientAuth.rawValue)",
                "webAuth": "\(configuration.webAuth.rawValue)",
            ]
        )
        try await application.runService()
        logger.info("stopped")
    }
}
