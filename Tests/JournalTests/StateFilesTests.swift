import TestSupport
import Testing

@testable import Journal

#if canImport(Glibc)
import Glibc
#endif

/// The journal's files are checked before SQLite opens them: no link is followed, and the state
/// directory must be the agent's.
@Suite("Journal files in the state directory")
struct StateFilesTests {
    static let victimText = "do not touch\n"

    func victim(in directory: TemporaryDirectory) throws -> String {
        try directory.write("victim", Self.victimText, mode: 0o644)
    }

    func expectUntouched(_ path: String, _ comment: Comment? = nil) {
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o644 && info.st_size == Self.victimText.utf8.count, comment)
    }

    func refusal(
        _ stateDirectory: String,
        mode: IncidentJournal.AccessMode = .readWrite,
        trustedOwner: uid_t? = nil
    ) async -> StateDirectoryError? {
        do {
            let journal = try await IncidentJournal.open(
                stateDirectory: stateDirectory,
                mode: mode,
                trustedOwner: trustedOwner
            )
            try? await journal.close()
            return nil
        } catch let error as StateDirectoryError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func linkedDatabaseFilesAreRefusedAndTheirTargetsUntouched() async throws {
        let directory = try TemporaryDirectory()
        let victim = try victim(in: directory)
        for name in ["agent.db", "agent.db-wal", "agent.db-shm"] {
            let state = directory.path + "/" + name.replacingDots
            #expect(mkdir(state, 0o700) == 0)
            if name != "agent.db" { try await IncidentJournal.with(state) { _ in } }
            unlink(state + "/" + name)
            #expect(symlink(victim, state + "/" + name) == 0)
            let error = await refusal(state)
            #expect(error == StateDirectoryError(path: state + "/" + name, problem: .symbolicLink), "\(name)")
            expectUntouched(victim, "\(name)")
        }
        // `execwatch incidents` does not follow a linked agent.db either.
        let error = await refusal(directory.path + "/agent_db", mode: .readOnly)
        #expect(error == StateDirectoryError(path: directory.path + "/agent_db/agent.db", problem: .symbolicLink))
        expectUntouched(victim, "read-only")
    }

    @Test func aDirectoryOthersCanChangeOrAnotherUserOwnsIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let state = directory.path + "/state"
        #expect(mkdir(state, 0o700) == 0)
        #expect(chmod(state, 0o777) == 0)
        #expect(await refusal(state) == StateDirectoryError(path: state, problem: .writableByOthers(mode: 0o777)))
        #expect(!fileExists(state + "/agent.db"), "nothing is created in a refused directory")

        #expect(chmod(state, 0o700) == 0)
        #expect(chown(state, 65534, 65534) == 0)
        #expect(
            await refusal(state) == StateDirectoryError(path: state, problem: .foreignOwner(uid: 65534, trusted: [0]))
        )
        // The user the agent hands its files to is trusted, and so are the files it owns.
        #expect(await refusal(state, trustedOwner: 65534) == nil)
        #expect(chown(state + "/agent.db", 65534, 65534) == 0)
        #expect(await refusal(state, trustedOwner: 65534) == nil)
        // Reading (`execwatch incidents` as root) does not need the directory to be root's.
        #expect(await refusal(state, mode: .readOnly) == nil)
    }
}

extension String {
    fileprivate var replacingDots: String { String(map { $0 == "." || $0 == "-" ? "_" : $0 }) }
}
