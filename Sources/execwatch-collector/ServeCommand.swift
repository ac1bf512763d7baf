import ArgumentParser
import Collector
import Logging

/// `execwatch-collector serve`: the server, until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the ingest API, the query API, the web page, /healthz and /metrics.",
        discussion: """
            Listens on `listen` (default 127.0.0.1:8443): HTTPS when tls.certFile and tls.keyFile are \
            set, plain HTTP otherwise (loopback addresses only). SIGTERM or SIGINT stop it gracefully. \
            Logs go to stderr with journald priority prefixes; EXECWATCH_COLLECTOR_LOG_LEVEL sets the level.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let logger = Logger(label: "execwatch-collector")
        let configuration = try options.load()
        do {
            _ = try ServerTLS.configuration(for: configuration.tls)
        } catch {
            throw CommandFailure.configuration("\(error)")
        }
        let store = try await options.openStore(configuration, logger: logger)
        let server = CollectorServer(configuration: configuration, store: store, logger: logger)
        do {
            try await server.run()
        } catch let error as ListenError {
            try? await store.close()
            throw CommandFailure.failure("\(error)")
        } catch {
            try? await store.close()
            throw CommandFailure.failure("cannot serve on \(configuration.listen): \(error)")
        }
        do {
            try await store.close()
        } catch {
            throw CommandFailure.failure("cannot close the store: \(error)")
        }
    }
}
