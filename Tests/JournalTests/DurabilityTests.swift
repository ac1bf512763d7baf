import ExecEvents
import RuleEngine
import TestSupport
import Testing

@testable import Journal

#if canImport(Glibc)
import Glibc
#endif

@Suite("Durability, files and schema")
struct DurabilityTests {
    @Test func walAndFullSynchronousAreInEffect() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { (journal) async throws in
            #expect(try await journal.firstValue(of: "PRAGMA journal_mode") == "wal")
            // 2 = FULL: the WAL is fsync'ed at every commit.
            #expect(try await journal.firstValue(of: "PRAGMA synchronous") == "2")
            #expect(try await journal.firstValue(of: "PRAGMA busy_timeout") == "5000")
            // A page cache of 256 KiB (negative: in KiB), not SQLite's 2000 KiB that fills as the
            // journal grows (the soak's resident memory creep).
            #expect(try await journal.firstValue(of: "PRAGMA cache_size") == "-256")
        }
        // The journal mode is kept in the file: a reader sees WAL too.
        try await IncidentJournal.with(directory.path, mode: .readOnly) { (reader) async throws in
            #expect(try await reader.firstValue(of: "PRAGMA journal_mode") == "wal")
        }
    }

    /// Each commit is visible to another connection while the writer stays open, as another
    /// process (`execwatch incidents`) sees it while the agent runs.
    @Test func everyCommitIsVisibleToAReaderWhileTheWriterStaysOpen() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { writer in
            try await IncidentJournal.with(directory.path, mode: .readOnly) { reader in
                for round in Int64(1)...20 {
                    try await writer.store(Sample.update(group: "user\(round % 3)", version: (round + 2) / 3))
                    let seen = try await reader.incidents()
                    #expect(seen.count == min(Int(round), 3))
                    #expect(try await reader.outboxDepth() == Int(round))
                    let latest = try await reader.pendingOutbox(limit: 100).last
                    #expect(latest?.version == (round + 2) / 3)
                }
            }
        }
    }

    @Test func filesAreOnlyForTheAgent() async throws {
        let directory = try TemporaryDirectory()
        let state = directory.path + "/state"
        let database = state + "/agent.db"
        try await IncidentJournal.with(state) { journal in
            try await journal.store(Sample.update(version: 1))
            #expect(fileMode(state) == 0o700)
            #expect(fileMode(database) == 0o600)
            #expect(fileMode(database + "-wal") == 0o600)
            #expect(fileMode(database + "-shm") == 0o600)
        }
        // An existing directory keeps its mode; a database file made with a looser one is tightened.
        let shared = directory.path + "/shared"
        #expect(mkdir(shared, 0o755) == 0)
        #expect(chmod(shared, 0o755) == 0)
        let loose = open(shared + "/agent.db", O_CREAT | O_WRONLY, 0o644)
        close(loose)
        try await IncidentJournal.with(shared) { _ in }
        #expect(fileMode(shared) == 0o755)
        #expect(fileMode(shared + "/agent.db") == 0o600)
    }

    @Test func readOnlyOpeningCreatesNothingAndWritesNothing() async throws {
        let directory = try TemporaryDirectory()
        let state = directory.path + "/missing"
        await #expect {
            try await IncidentJournal.open(stateDirectory: state, mode: .readOnly)
        } throws: { error in
            guard case JournalError.notFound(let path) = error else { return false }
            return path == state + "/agent.db"
        }
        #expect(!fileExists(state))

        try await IncidentJournal.with(directory.path) { journal in try await journal.store(Sample.update(version: 1)) }
        try await IncidentJournal.with(directory.path, mode: .readOnly) { (reader) async throws in
            await #expect(throws: JournalError.self) { try await reader.store(Sample.update(version: 2)) }
            await #expect(throws: JournalError.self) { try await reader.acknowledge(upTo: 100) }
            // Even SQL that writes is refused by SQLite itself.
            await #expect(throws: JournalError.self) { try await reader.firstValue(of: "DELETE FROM outbox") }
            #expect(try await reader.outboxDepth() == 1)
        }
    }

    @Test func schemaVersionIsRecordedOnceAndANewerOneIsRefused() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { _ in }
        try await IncidentJournal.with(directory.path) { (journal) async throws in
            #expect(try await journal.firstValue(of: "SELECT group_concat(version) FROM schemaVersion") == "1,2")
            // As a later execwatch would leave it.
            _ = try await journal.firstValue(of: "INSERT INTO schemaVersion VALUES (99, 0) RETURNING version")
        }
        for mode in [IncidentJournal.AccessMode.readWrite, .readOnly] {
            await #expect {
                try await IncidentJournal.open(stateDirectory: directory.path, mode: mode)
            } throws: { error in
                guard case JournalError.schemaTooNew(_, let version, let supported) = error else { return false }
                return version == 99 && supported == JournalSchema.currentVersion
            }
        }
    }

    @Test func sqliteURIsEscapeWhatSQLiteWouldReadAsSyntax() {
        #expect(
            JournalFiles.uri(path: "/var/lib/execwatch/agent.db", readOnly: true)
                == "file:///var/lib/execwatch/agent.db?mode=ro"
        )
        #expect(
            JournalFiles.uri(path: "/a%b?c#d/agent.db", readOnly: false) == "file:///a%25b%3Fc%23d/agent.db?mode=rw"
        )
        #expect(JournalFiles.uri(path: "state/agent.db", readOnly: true) == "file:state/agent.db?mode=ro")
    }

    @Test func aStateDirectoryWithAwkwardCharactersWorks() async throws {
        let directory = try TemporaryDirectory()
        let state = directory.path + "/odd %25 ?name# é"
        try await IncidentJournal.with(state) { journal in try await journal.store(Sample.update(version: 1)) }
        #expect(fileExists(state + "/agent.db"))
        try await IncidentJournal.with(state, mode: .readOnly) { (reader) async throws in
            #expect(try await reader.incidents().count == 1)
        }
    }
}
