import ExecEvents
import TestSupport
import Testing

@testable import CollectorStorage

@Suite("SQLite store files")
struct SQLiteFileTests {
    @Test("the state directory is created 0750, the database files are 0600, WAL with synchronous=FULL")
    func files() async throws {
        try await StoreLocation.with(.sqlite) { location in
            try await location.withStore { store in
                _ = try await store.upsert([Sample.received()])
                let sqlite = try #require(store as? SQLiteCollectorStore)
                #expect(sqlite.path == location.stateDirectory + "/collector.db")
                #expect(fileMode(location.stateDirectory) == 0o750)
                #expect(fileMode(sqlite.path) == 0o600)
                #expect(fileMode(sqlite.path + "-wal") == 0o600)
                #expect(fileMode(sqlite.path + "-shm") == 0o600)
                let (journalMode, synchronous) = try await sqlite.writer.exclusively(doing: "test") { session in
                    (
                        try await session.value("PRAGMA journal_mode", doing: "test")?.string,
                        try await session.value("PRAGMA synchronous", doing: "test")?.integer
                    )
                }
                #expect(journalMode == "wal")
                #expect(synchronous == 2)  // FULL
            }
        }
    }

    @Test("an absolute path is used as the database file")
    func explicitPath() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/elsewhere/incidents.db"
        let store = try await CollectorStores.open(
            url: path,
            stateDirectory: "/nonexistent",
            logger: StoreLocation.logger
        )
        _ = try await store.upsert([Sample.received()])
        try await store.close()
        #expect(fileMode(path) == 0o600)
    }

    @Test("a database from a newer collector is refused, not touched")
    func newerSchema() async throws {
        try await StoreLocation.with(.sqlite) { location in
            try await location.withStore { store in
                let sqlite = try #require(store as? SQLiteCollectorStore)
                _ = try await sqlite.writer.exclusively(doing: "test") { session in
                    try await session.rows("INSERT INTO schema_version VALUES (99, 0)", doing: "test")
                }
            }
            let error = await #expect(throws: CollectorStoreError.self) { try await location.open() }
            #expect("\(error.map { "\($0)" } ?? "")".contains("schema version 99"))
        }
    }
}
