import Capture
import Synchronization
import Testing

@testable import AuditCapture

#if canImport(Glibc)
import Glibc
#endif

/// A record store in memory, counting what is done to it.
final class MemoryRecordStore: AuditStateRecordStore {
    let location = "/state/audit-state"
    let text: Mutex<String?>

    init(_ text: String?) {
        self.text = Mutex(text)
    }

    func read() throws(CaptureError) -> String? { text.withLock { $0 } }
    func write(_ text: String) throws(CaptureError) { self.text.withLock { $0 = text } }
    func remove() throws(CaptureError) { text.withLock { $0 = nil } }
}

@Suite("The record of the audit state found (crash recovery)")
struct AuditStateRecordTests {
    static let full = AuditStateRecord(
        bootId: "5b0f6a5e-9c1e-4c64-8e2a-0d1e2f3a4b5c",
        enabled: 0,
        backlogLimit: 64,
        backlogWaitTime: 15000,
        addedRules: [
            AuditExecRule(architecture: .b64, key: "execwatch"), AuditExecRule(architecture: .b32, key: "execwatch"),
        ]
    )

    @Test("written and read back the same, one setting a line")
    func roundTrip() throws {
        let text = Self.full.text
        #expect(
            text == """
                boot_id 5b0f6a5e-9c1e-4c64-8e2a-0d1e2f3a4b5c
                enabled 0
                backlog_limit 64
                backlog_wait_time 15000
                rule b64 execve,execveat execwatch
                rule b32 execve,execveat execwatch

                """
        )
        #expect(try AuditStateRecord(text: text, location: "f") == Self.full)
        let onlyRules = AuditStateRecord(bootId: "b", addedRules: [AuditExecRule(architecture: .b64, key: "k")])
        #expect(try AuditStateRecord(text: onlyRules.text, location: "f") == onlyRules)
        #expect(AuditStateRecord(bootId: "b").isEmpty)
    }

    @Test("a bad line is refused naming the file, the line and what is wrong")
    func badLines() {
        func refusal(_ text: String) -> String {
            do {
                _ = try AuditStateRecord(text: text, location: "/var/lib/execwatch/audit-state")
                return "accepted"
            } catch {
                return error.description
            }
        }
        let unknown = refusal("boot_id b\nenable 1\n")
        #expect(unknown.contains("/var/lib/execwatch/audit-state:2: unknown setting \"enable\""), "\(unknown)")
        let notNumber = refusal("boot_id b\nbacklog_limit many\n")
        #expect(notNumber.contains("audit-state:2: backlog_limit needs one unsigned number"), "\(notNumber)")
        let badRule = refusal("boot_id b\nrule x86 execve k\n")
        #expect(badRule.contains("audit-state:2: a rule is"), "\(badRule)")
        let noBoot = refusal("enabled 1\n")
        #expect(noBoot.contains("audit-state: no boot_id line"), "\(noBoot)")
        #expect(noBoot.contains("auditctl -s"), "\(noBoot)")
    }

    @Test("the changes a record says are those it was made from")
    func changesFromRecord() {
        var changes = AuditStateChanges(record: Self.full)
        changes.registeredAsDaemon = true
        #expect(changes.record(bootId: Self.full.bootId) == Self.full)
        #expect(!AuditStateChanges(record: Self.full).registeredAsDaemon)
    }

    @Test("no record: nothing done; a record from another boot: removed without touching audit")
    func otherBoot() throws {
        let control = try AuditLink()
        let none = MemoryRecordStore(nil)
        #expect(try AuditStateRecovery.restoreLeftover(from: none, bootId: "now", control: control) == .none)
        let old = MemoryRecordStore(Self.full.text)
        let outcome = try AuditStateRecovery.restoreLeftover(from: old, bootId: "now", control: control)
        #expect(outcome == .otherBoot(Self.full.bootId))
        #expect(old.text.withLock { $0 } == nil)
    }

    @Test("a record that cannot be read is kept, and the error names it")
    func unreadableKept() throws {
        let control = try AuditLink()
        let bad = MemoryRecordStore("boot_id now\nenabled yes\n")
        #expect(throws: CaptureError.self) {
            _ = try AuditStateRecovery.restoreLeftover(from: bad, bootId: "now", control: control)
        }
        #expect(bad.text.withLock { $0 } != nil)
    }

    @Test("this boot's id is read from the kernel")
    func bootId() throws {
        let id = try AuditStateRecord.currentBootId()
        #expect(id.count == 36 && !id.contains("\n"), "\(id)")
    }
}
