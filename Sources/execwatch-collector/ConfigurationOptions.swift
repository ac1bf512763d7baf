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
        try Self.becomeOwner(ofStateDirectory: config)
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

    /// Run as root (`execwatch-collector agents add …` by an administrator) on a state directory
    /// that belongs to another user (the service's), the command takes that user's identity before
    /// it opens an SQLite store: a database or WAL file created by root would lock the service out.
    private static func becomeOwner(ofStateDirectory config: CollectorConfiguration) throws(CommandFailure) {
        guard geteuid() == 0, !config.storageURL.hasPrefix("postgres") else { return }
        var info = stat()
        guard stat(config.stateDirectory, &info) == 0, info.st_uid != 0 else { return }
        guard setgroups(0, nil) == 0, setgid(info.st_gid) == 0, setuid(info.st_uid) == 0 else {
            throw .failure(
                "cannot switch to uid \(info.st_uid), the owner of \(config.stateDirectory): "
                    + String(cString: strerror(errno))
            )
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
