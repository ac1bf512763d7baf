import ArgumentParser
import Collector
import CollectorStorage
import ConfigurationFiles
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `--config FILE`, shared by every command, and what follows from it.
struct ConfigurationOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "The configuration file (default \(CollectorConfigurationLoader.defaultPath) if it exists).",
            valueName: "file"
        )
    )
    var path: String?

    /// The configuration from the file and `EXECWATCH_COLLECTOR_…` variables; a configuration
    /// error ends the run with status 2.
    func load() throws(CommandFailure) -> CollectorConfiguration {
        do {
            return try CollectorConfigurationLoader.load(path: path, environment: Self.environment)
        } catch {
            throw .configuration("\(error)")
        }
    }

    /// Opens the configured store; a failure ends the run with status 1.
    func openStore(
        _ config: CollectorConfiguration,
        logger: Logger
    ) async throws(CommandFailure) -> any CollectorStore {
        do {
            return try await CollectorStores.open(
                url: config.storageURL,
                stateDirectory: config.stateDirectory,
                logger: logger
            )
        } catch {
            throw .failure("cannot open the store: \(error)")
        }
    }

    /// The `EXECWATCH_COLLECTOR_…` variables of the environment.
    private static var environment: [String: String] {
        var environment: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let pair = String(cString: pointer)
            if pair.hasPrefix(CollectorConfigurationLoader.environmentPrefix), let equals = pair.firstIndex(of: "=") {
                environment[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            entry += 1
        }
        return environment
    }
}

/// Runs `body` with the store open, and closes it whatever happens.
func withStore<Result>(
    _ options: ConfigurationOptions,
    logger: Logger,
    _ body: (any CollectorStore) async throws -> Result
) async throws -> Result {
    let configuration = try options.load()
    let store = try await options.openStore(configuration, logger: logger)
    do {
        let result = try await body(store)
        try? await store.close()
        return result
    } catch {
        try? await store.close()
        throw error
    }
}
