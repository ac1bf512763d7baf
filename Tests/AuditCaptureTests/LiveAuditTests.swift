import AuditCapture
import Capture
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Tests against the real kernel audit of this machine (root). They change the host's audit
/// state, so they run one at a time, each holding ``AuditTestLock`` (shared with other test
/// targets and scripts), each with rule keys of its own, and each checks that `auditctl -s` and
/// `auditctl -l` read the same after as before. Without audit support they fail, saying why.
@Suite("Live kernel audit (root; serialized; holds /run/lock/execwatch-audit-tests.lock)", .serialized)
struct LiveAuditTests {
    /// A rule key no other test or agent uses.
    static func testKey() -> String {
        "execwatch-test-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }

    /// Runs `body` holding the audit test lock, after checking root and kernel audit and removing
    /// rules left by an interrupted test run; then checks the host's audit state is as before.
    static func withHostAudit(_ body: (HostAuditState) throws -> Void) throws {
        let lock = try AuditTestLock.acquire()
        defer { lock.release() }
        try requireRootAndAudit()
        try removeLeftoverTestRules()
        let before = try HostAuditState.read()
        defer {
            let after = try? HostAuditState.read()
            #expect(
                after == before,
                "the host's audit state changed: before \(before), after \(String(describing: after))"
            )
        }
        try body(before)
    }

    static func requireRootAndAudit() throws {
        guard geteuid() == 0 else {
            throw TestFailure("these tests change kernel audit state and must run as root (euid is \(geteuid()))")
        }
        do {
            _ = try AuditLink().status()
        } catch {
            throw TestFailure(
                "kernel audit is not usable here (\(error)); these tests need a Linux kernel with "
                    + "CONFIG_AUDIT and CAP_AUDIT_CONTROL, and do not skip"
            )
        }
    }

    /// Test rules (key `execwatch-test-…`) still loaded can only be left by a test run that was
    /// killed (the lock is held): delete them, so they do not count as the host's state.
    static func removeLeftoverTestRules() throws {
        let link = try AuditLink()
        for listing in try link.rules() {
            guard let key = listing.keys.first, key.hasPrefix("execwatch-test-") else { continue }
            for rule in AuditExecRule.agentRules(key: key) where listing.isExactly(rule) {
                try link.delete(rule)
            }
        }
    }

    /// Whether the host has an audit daemon other than this process registered and alive.
    static func liveAuditDaemon(_ state: HostAuditState) -> Int32? {
        state.pid > 0 && state.pid != getpid() && LinuxProcess.isAlive(state.pid) ? state.pid : nil
    }
}
