import Capture

#if canImport(Glibc)
import Glibc
#endif

/// The audit state an agent found, written down before it changes anything, so that an agent
/// killed before it could restore (SIGKILL, a crash) leaves enough behind for the next start, or
/// `execwatch audit restore`, to put audit back as the host had it.
///
/// Tagged with the boot id: after a reboot the kernel's audit state is the boot's own, and a
/// record from an earlier boot is ignored. The text form, one setting a line:
///
///     boot_id 0b1c…
///     enabled 0
///     backlog_limit 64
///     backlog_wait_time 15000
///     rule b64 execve,execveat execwatch
///
/// A setting is present only when the agent changed it; `rule` lines are the rules it added.
public struct AuditStateRecord: Sendable, Equatable {
    /// `/proc/sys/kernel/random/boot_id` when the record was written.
    public var bootId: String
    /// The enabled flag found, when the agent changed it.
    public var enabled: UInt32?
    /// The backlog limit found, when the agent changed it.
    public var backlogLimit: UInt32?
    /// The backlog wait time found, when the agent changed it.
    public var backlogWaitTime: UInt32?
    /// The rules the agent added (never rules it found loaded).
    public var addedRules: [AuditExecRule] = []

    public init(
        bootId: String,
        enabled: UInt32? = nil,
        backlogLimit: UInt32? = nil,
        backlogWaitTime: UInt32? = nil,
        addedRules: [AuditExecRule] = []
    ) {
        self.bootId = bootId
        self.enabled = enabled
        self.backlogLimit = backlogLimit
        self.backlogWaitTime = backlogWaitTime
        self.addedRules = addedRules
    }

    /// Whether the record says nothing was changed.
    public var isEmpty: Bool { enabled == nil && backlogLimit == nil && backlogWaitTime == nil && addedRules.isEmpty }

    /// The record as it is stored.
    public var text: String {
        var lines = ["boot_id \(bootId)"]
        if let enabled { lines.append("enabled \(enabled)") }
        if let backlogLimit { lines.append("backlog_limit \(backlogLimit)") }
        if let backlogWaitTime { lines.append("backlog_wait_time \(backlogWaitTime)") }
        for rule in addedRules {
            lines.append("rule \(rule.architecture.rawValue) \(rule.syscalls.joined(separator: ",")) \(rule.key)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// What would be put back, in words (`enabled=0, backlog_limit=64, 2 rules deleted`).
    public var summary: String {
        var parts: [String] = []
        if let enabled { parts.append("enabled=\(enabled)") }
        if let backlogLimit { parts.append("backlog_limit=\(backlogLimit)") }
        if let backlogWaitTime { parts.append("backlog_wait_time=\(backlogWaitTime)") }
        if !addedRules.isEmpty { parts.append("\(addedRules.count) rule(s) with key \(addedRules[0].key) deleted") }
        return parts.isEmpty ? "nothing" : parts.joined(separator: ", ")
    }

    /// Parses the stored text; `location` (the file) names where a problem is, with its line.
    public init(text: String, location: String) throws(CaptureError) {
        var bootId: String?
        var record = AuditStateRecord(bootId: "")
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(separator: " ")
            guard let name = fields.first else { continue }
            func invalid(_ what: String) -> CaptureError {
                CaptureError(
                    operation: "read the audit state record",
                    errno: EINVAL,
                    detail: "\(location):\(index + 1): \(what) (line: \"\(line)\"); check audit by hand "
                        + "(auditctl -s, auditctl -l), then remove the file"
                )
            }
            func number() throws(CaptureError) -> UInt32 {
                guard fields.count == 2, let value = UInt32(fields[1]) else {
                    throw invalid("\(name) needs one unsigned number")
                }
                return value
            }
            switch name {
            case "boot_id":
                guard fields.count == 2 else { throw invalid("boot_id needs one value") }
                bootId = String(fields[1])
            case "enabled": record.enabled = try number()
            case "backlog_limit": record.backlogLimit = try number()
            case "backlog_wait_time": record.backlogWaitTime = try number()
            case "rule":
                guard fields.count == 4, let architecture = AuditExecRule.Architecture(rawValue: String(fields[1]))
                else { throw invalid("a rule is \"rule ARCH SYSCALL,… KEY\" with ARCH b64 or b32") }
                let syscalls = fields[2].split(separator: ",").map(String.init)
                record.addedRules.append(
                    AuditExecRule(architecture: architecture, syscalls: syscalls, key: String(fields[3]))
                )
            default:
                throw invalid(
                    "unknown setting \"\(name)\" (known: boot_id, enabled, backlog_limit, backlog_wait_time, rule)"
                )
            }
        }
        guard let bootId else {
            throw CaptureError(
                operation: "read the audit state record",
                errno: EINVAL,
                detail: "\(location): no boot_id line; check audit by hand (auditctl -s, auditctl -l), "
                    + "then remove the file"
            )
        }
        record.bootId = bootId
        self = record
    }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`).
    public static func currentBootId() throws(CaptureError) -> String {
        let path = "/proc/sys/kernel/random/boot_id"
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CaptureError(operation: "open \(path)", errno: errno) }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(descriptor, &buffer, buffer.count)
        guard count > 0 else { throw CaptureError(operation: "read \(path)", errno: count < 0 ? errno : EIO) }
        return String(decoding: buffer[0..<count].filter { $0 != 0x0a && $0 != 0x20 }, as: UTF8.self)
    }
}

/// Where an agent keeps its ``AuditStateRecord`` (a file in its state directory). The agent
/// lock must be held while it is used: the record is one agent's at a time.
public protocol AuditStateRecordStore: Sendable {
    /// The file, for messages.
    var location: String { get }
    /// The stored text; nil when there is none.
    func read() throws(CaptureError) -> String?
    /// Replaces the stored text atomically and durably (a crash leaves the old or the new text).
    func write(_ text: String) throws(CaptureError)
    /// Removes the record; nothing to do when there is none.
    func remove() throws(CaptureError)
}

/// A record left by an agent that could not restore (killed, crashed), and putting it back.
public enum AuditStateRecovery {
    /// What ``restoreLeftover(from:bootId:control:)`` found and did.
    public enum Outcome: Sendable, Equatable {
        /// No record.
        case none
        /// A record from another boot, removed unused.
        case otherBoot(String)
        /// A record of this boot, put back and removed.
        case restored(AuditStateRecord)
    }

    /// Puts back what a dead agent's record says it changed: deletes the rules it added (a rule
    /// already gone is fine), then sets the enabled flag and backlog settings it found; removes
    /// the record when all of it worked. A registered audit daemon that is dead (the killed agent)
    /// is unregistered; a live one is left alone.
    /// Throws, keeping the record, when it cannot be read or something could not be put back.
    public static func restoreLeftover(
        from store: any AuditStateRecordStore,
        bootId: String,
        control: AuditLink
    ) throws(CaptureError) -> Outcome {
        guard let text = try store.read() else { return .none }
        let record = try AuditStateRecord(text: text, location: store.location)
        guard record.bootId == bootId else {
            try store.remove()
            return .otherBoot(record.bootId)
        }
        var changes = AuditStateChanges(record: record)
        var problems = changes.restore(using: control, ruleAlreadyGoneIsFine: true)
        // A dead daemon stays registered until the kernel fails to send to it; asking for pid 0
        // makes the kernel test the connection and drop it (a live one refuses: left alone).
        if let status = try? control.status(), status.pid != 0, !LinuxProcess.isAlive(Int32(bitPattern: status.pid)) {
            do throws(CaptureError) { try control.unregisterAsAuditDaemon() } catch { problems.append(error) }
        }
        if !problems.isEmpty {
            throw CaptureError(
                operation: "restore the audit state a previous agent left (\(store.location))",
                errno: problems[0].errno,
                detail: problems.map(\.description).joined(separator: "; ")
            )
        }
        try store.remove()
        return .restored(record)
    }
}
