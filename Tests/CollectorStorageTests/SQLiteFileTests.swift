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

    @Test("a full database is a .full failure that stores nothing of the batch; writing works again once there is room")
    func full() async throws {
        try await StoreLocation.with(.sqlite) { location in
            try await location.withStore { store in
                _ = try await store.upsert([Sample.received(group: "first")])
                let sqlite = try #require(store as? SQLiteCollectorStore)
                // The database may not grow: SQLITE_FULL, as on a full disk.
                let pages = try await sqlite.writer.exclusively(doing: "test") { session in
                    let pages = try await session.value("PRAGMA page_count", doing: "test")?.integer ?? 0
                    try await session.rows("PRAGMA max_page_count = \(pages)", doing: "test")
                    return pages
                }
                let batch = (0..<200).map { Sample.received(group: "user-\($0)") }
                let error = await #expect(throws: CollectorStoreError.self) { try await store.upsert(batch) }
                #expect(error?.cause == .full, "\(error.map { "\($0)" } ?? "")")
                #expect("\(error.map { "\($0)" } ?? "")".contains("full"))
                #expect(try await store.incidentCount() == 1)
                // Room again: the same batch is stored, whole.
                _ = try await sqlite.writer.exclusively(doing: "test") { session in
                    try await session.rows("PRAGMA max_page_count = \(pages * 100)", doing: "test")
                }
                let outcomes = try await store.upsert(batch)
                #expect(outcomes == Array(repeating: .created, count: 200))
                #expect(try await store.incidentCount() == 201)
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
