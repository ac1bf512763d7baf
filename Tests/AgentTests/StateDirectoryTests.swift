import Foundation
import Testing

@testable import Agent

@Suite("State directory")
struct StateDirectoryTests {
    @Test func secondLockFailsNamingTheHolderAndTheIdIsKept() throws {
        let path = NSTemporaryDirectory() + "ew-state-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let state = try AgentStateDirectory(path: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
        let held = try state.lock()
        defer { close(held) }
        do {
            _ = try AgentStateDirectory(path: path).lock()
            Issue.record("a second lock was granted")
        } catch {
            #expect(error.message.contains("another execwatch agent (pid \(getpid()))"), "\(error)")
        }
        let id = try state.agentId()
        #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
        #expect(try AgentStateDirectory(path: path).agentId() == id)
    }
}
