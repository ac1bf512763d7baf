import Logging
import TestSupport
import Testing

@testable import CollectorStorage

#if canImport(Glibc)
import Glibc
#endif

/// The two stores every case of ``CollectorStoreTests`` runs against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgresql

    var testDescription: String { rawValue }

    static let postgresVariable = "EXECWATCH_TEST_POSTGRES_URL"
}

/// One store location for one test: SQLite in a temporary state directory, or PostgreSQL in a
/// schema of its own (so tests never see each other's rows). Opens as many independent stores on
/// it as a test wants (two collectors), and cleans up after the test.
final class StoreLocation: Sendable {
    let kind: StoreKind
    /// What `storage.url` would say.
    let url: String
    let stateDirectory: String
    private let directory: TemporaryDirectory?

    static let logger: Logger = {
        var logger = Logger(label: "execwatch.collector-storage.tests")
        logger.logLevel = .warning
        return logger
    }()

    private init(kind: StoreKind, url: String, stateDirectory: String, directory: TemporaryDirectory?) {
        self.kind = kind
        self.url = url
        self.stateDirectory = stateDirectory
        self.directory = directory
    }

    /// Runs `body` with a fresh location, and removes the location afterwards (the state
    /// directory, or the PostgreSQL schema).
    ///
    /// PostgreSQL cases fail, never skip, when no test database is configured.
    static func with<T>(_ kind: StoreKind, _ body: (StoreLocation) async throws -> T) async throws -> T {
        let location = try make(kind)
        do {
            let result = try await body(location)
            try await location.remove()
            return result
        } catch {
            try? await location.remove()
            throw error
        }
    }

    private static func make(_ kind: StoreKind) throws -> StoreLocation {
        switch kind {
        case .sqlite:
            let directory = try TemporaryDirectory()
            // The default: storage.url empty, collector.db in the state directory (created here).
            return StoreLocation(kind: kind, url: "", stateDirectory: directory.path + "/state", directory: directory)
        case .postgresql:
            guard let base = environment(StoreKind.postgresVariable), !base.isEmpty else {
                throw TestFailure(
                    """
                    \(StoreKind.postgresVariable) is not set, so the PostgreSQL store cannot be tested. Run \
                    `scripts/postgres-for-tests.sh start` and \
                    `export \(StoreKind.postgresVariable)=$(scripts/postgres-for-tests.sh url)`, then test again.
                    """
                )
            }
            let schema = "test_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            let url = base + (base.contains("?") ? "&" : "?") + "schema=" + schema
            return StoreLocation(kind: kind, url: url, stateDirectory: "/nonexistent", directory: nil)
        }
    }

    /// Opens a store here: every call is another, independent store (its own connections), as
    /// another collector process would have.
    func open() async throws -> any CollectorStore {
        try await CollectorStores.open(url: url, stateDirectory: stateDirectory, logger: Self.logger)
    }

    /// Opens a store, runs `body`, and closes the store whatever happens.
    func withStore<T>(_ body: (any CollectorStore) async throws -> T) async throws -> T {
        let store = try await open()
        do {
            let result = try await body(store)
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }

    private func remove() async throws {
        guard kind == .postgresql else { return }
        let store = try await open()
        guard let postgres = store as? PostgresCollectorStore else {
            throw TestFailure("not a PostgreSQL store: \(store)")
        }
        try await postgres.dropSchemaAndClose()
    }
}

extension StoreLocation {
    /// Runs SQL statements on the database as they are (for tests that set up an older schema).
    func execute(_ statements: [String]) async throws {
        let store = try await open()
        do {
            switch store {
            case let sqlite as SQLiteCollectorStore:
                try await sqlite.writer.exclusively(doing: "test set-up") { session in
                    for statement in statements { try await session.rows(statement, doing: "test set-up") }
                }
            case let postgres as PostgresCollectorStore:
                try await postgres.run(doing: "test set-up") { connection in
                    for statement in statements { try connection.execute(statement) }
                }
            default:
                throw TestFailure("not a store of this project: \(store)")
            }
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    }
}
