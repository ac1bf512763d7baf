import ConfigurationFiles
import Journal
import TestSupport
import Testing

@testable import Agent

#if canImport(Glibc)
import Glibc
#endif

/// A file outside the state directory that a link in it points at: it must come out untouched.
private struct Victim {
    static let text = "do not touch\n"
    let path: String

    init(in directory: TemporaryDirectory) throws {
        path = try directory.write("victim", Self.text, mode: 0o644)
    }

    func expectUntouched(_ comment: Comment? = nil) throws {
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o644, comment)
        #expect(info.st_uid == 0 && info.st_gid == 0, comment)
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(descriptor, &buffer, buffer.count)
        #expect(count >= 0 && String(decoding: buffer[0..<max(count, 0)], as: UTF8.self) == Self.text, comment)
    }
}

private func refusal<T>(_ body: () throws -> T) -> StateDirectoryError? {
    do {
        _ = try body()
        return nil
    } catch let error as StateDirectoryError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

@Suite("State directory")
struct StateDirectoryTests {
    @Test func secondLockFailsNamingTheHolderAndTheIdIsKept() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/state"
        let state = try AgentStateDirectory(path: path)
        #expect(fileMode(path) == 0o700)
        let held = try state.lock()
        defer { close(held) }
        do {
            _ = try AgentStateDirectory(path: path).lock()
            Issue.record("a second lock was granted")
        } catch let error as ConfigurationError {
            #expect(error.message.contains("another execwatch agent (pid \(getpid()))"), "\(error)")
        }
        let id = try state.agentId()
        #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
        #expect(try AgentStateDirectory(path: path).agentId() == id)
    }

    @Test func linksPlantedInTheDirectoryAreNotFollowed() throws {
        let directory = try TemporaryDirectory()
        let victim = try Victim(in: directory)
        for name in ["agent.lock", "agent-id"] {
            let path = directory.path + "/state-" + name
            #expect(mkdir(path, 0o700) == 0)
            #expect(symlink(victim.path, path + "/" + name) == 0)
            let state = try AgentStateDirectory(path: path)
            let error = refusal { name == "agent.lock" ? try state.lock() : Int32(try state.agentId().count) }
            #expect(error == StateDirectoryError(path: path + "/" + name, problem: .symbolicLink))
            #expect(
                error?.description.contains("\(path)/\(name): is a symbolic link") == true,
                "\(String(describing: error))"
            )
            try victim.expectUntouched("\(name)")
        }
        // Handing over to the agent's user changes the owner of no file a link points at.
        let path = directory.path + "/state-handover"
        #expect(mkdir(path, 0o700) == 0)
        #expect(symlink(victim.path, path + "/agent.db") == 0)
        let nobody = try PrivilegeDrop.User(named: "nobody")
        let error = refusal { try AgentStateDirectory(path: path, user: nobody).handOver() }
        #expect(error == StateDirectoryError(path: path + "/agent.db", problem: .symbolicLink))
        try victim.expectUntouched("hand-over")
        // A hard link to a file elsewhere is refused too.
        let linked = directory.path + "/state-hardlink"
        #expect(mkdir(linked, 0o700) == 0)
        #expect(link(victim.path, linked + "/agent.lock") == 0)
        #expect(
            refusal { try AgentStateDirectory(path: linked).lock() }
                == StateDirectoryError(path: linked + "/agent.lock", problem: .hardLinked(links: 2))
        )
        try victim.expectUntouched("hard link")
    }

    @Test func aDirectoryOthersCanChangeIsRefusedNamingIt() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/state"
        #expect(mkdir(path, 0o700) == 0)
        for mode: mode_t in [0o777, 0o770, 0o702, 0o1777] {
            #expect(chmod(path, mode) == 0)
            let error = try #require(refusal { try AgentStateDirectory(path: path) })
            #expect(error == StateDirectoryError(path: path, problem: .writableByOthers(mode: mode)))
            #expect(error.description.hasPrefix("\(path): the state directory is writable by group or others"))
        }
        #expect(chmod(path, 0o755) == 0)
        _ = try AgentStateDirectory(path: path)  // readable by others is the administrator's choice

        let nobody = try PrivilegeDrop.User(named: "nobody")
        #expect(chown(path, nobody.uid, nobody.gid) == 0)
        let error = try #require(refusal { try AgentStateDirectory(path: path) })
        #expect(error == StateDirectoryError(path: path, problem: .foreignOwner(uid: nobody.uid, trusted: [0])))
        #expect(error.description.contains("\(path): owned by nobody (uid \(nobody.uid)), not by root (uid 0)"))

        let linkedDirectory = directory.path + "/linked"
        #expect(symlink(directory.path, linkedDirectory) == 0)
        #expect(
            refusal { try AgentStateDirectory(path: linkedDirectory) }
                == StateDirectoryError(path: linkedDirectory, problem: .symbolicLink)
        )
    }

    @Test func handedOverToTheUserTheDirectoryIsStillTheAgentsAtTheNextStart() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/state"
        let nobody = try PrivilegeDrop.User(named: "nobody")
        let id: String
        do {
            let state = try AgentStateDirectory(path: path, user: nobody)
            let lock = try state.lock()
            defer { close(lock) }
            id = try state.agentId()
            try state.handOver()
        }
        for file in ["", "/agent.lock", "/agent-id"] {
            var info = stat()
            #expect(stat(path + file, &info) == 0)
            #expect(info.st_uid == nobody.uid && info.st_gid == nobody.gid, "\(file)")
        }
        let state = try AgentStateDirectory(path: path, user: nobody)
        let lock = try state.lock()
        close(lock)
        #expect(try state.agentId() == id)
        // Without `user:` the directory belongs to someone else now.
        #expect(
            refusal { try AgentStateDirectory(path: path) }?.problem == .foreignOwner(uid: nobody.uid, trusted: [0])
        )
    }
}
