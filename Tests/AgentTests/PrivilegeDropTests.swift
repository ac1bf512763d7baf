import Capture
import Foundation
import Synchronization
import Testing

@testable import Agent

#if canImport(Glibc)
import Glibc
#endif

/// Capabilities belong to threads: what the capture thread keeps is read from that thread, and
/// the others are not changed by its drop (root: the test needs capabilities to drop).
@Suite struct PrivilegeDropTests {
    @Test("a thread keeping only CAP_AUDIT_CONTROL reads just that, by itself and by id; the main thread keeps its own")
    func theDroppingThreadAloneLosesCapabilities() throws {
        try #require(getuid() == 0, "needs root")
        let mainBefore = ProcessFacts.effectiveCapabilities()
        try #require(mainBefore.contains("cap_bpf"), "the test process lacks CAP_BPF: \(mainBefore)")

        let seen = ThreadFindings()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            defer { done.signal() }
            do {
                try PrivilegeDrop.apply(keep: [.auditControl], user: nil)
            } catch {
                seen.state.withLock { $0.error = "\(error)" }
                return
            }
            let calling = EffectiveCapabilities(of: .calling)?.names ?? ["unreadable"]
            let byId = ProcessFacts.effectiveCapabilities(thread: Self.threadId())
            seen.state.withLock { $0 = (calling, byId, nil) }
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        let (calling, byId, error) = seen.state.withLock { $0 }
        #expect(error == nil)
        #expect(calling == ["cap_audit_control"])
        #expect(byId == ["cap_audit_control"])
        #expect(ProcessFacts.effectiveCapabilities() == mainBefore)
        #expect(EffectiveCapabilities(of: .main)?.contains(39) == true)  // CAP_BPF
    }

    /// The calling thread's id, from the /proc/thread-self link (`PID/task/TID`).
    static func threadId() -> Int32 {
        var target = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/thread-self", &target, target.count - 1)
        guard count > 0 else { return -1 }
        let link = String(decoding: target[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return link.split(separator: "/").last.flatMap { Int32($0) } ?? -1
    }

    @Test func aThreadThatIsGoneHasNoCapabilitiesToRead() {
        #expect(EffectiveCapabilities(of: .task(Int32.max)) == nil)
        #expect(ProcessFacts.effectiveCapabilities(thread: Int32.max) == [])
    }
}

/// What the dropping thread saw, handed to the test's thread.
private final class ThreadFindings: Sendable {
    let state = Mutex<(calling: [String], byId: [String], error: String?)>(([], [], nil))
}
