import CAudit

/// An exec rule as the agent installs it: `-a always,exit -F arch=ARCH -S execve,execveat -k KEY`.
public struct AuditExecRule: Sendable, Hashable, CustomStringConvertible {
    /// The system call ABI a rule applies to (`-F arch=`).
    public enum Architecture: String, Sendable, Hashable {
        /// The native 64-bit ABI.
        case b64
        /// The 32-bit compatibility ABI (i386 on x86_64).
        case b32
    }

    public var architecture: Architecture
    public var syscalls: [String]
    public var key: String

    public init(architecture: Architecture, syscalls: [String] = ["execve", "execveat"], key: String) {
        self.architecture = architecture
        self.syscalls = syscalls
        self.key = key
    }

    /// The agent's rules: execve and execveat for the 64-bit ABI and, when this machine has one,
    /// the 32-bit one.
    public static func agentRules(key: String) -> [AuditExecRule] {
        [.b64, .b32].map { AuditExecRule(architecture: $0, key: key) }.filter { $0.machine != nil }
    }

    /// As `auditctl -l` prints it.
    public var description: String {
        "-a always,exit -F arch=\(architecture.rawValue) -S \(syscalls.joined(separator: ",")) -F key=\(key)"
    }

    /// libaudit's machine for the architecture; nil when this host has no such ABI.
    var machine: Int32? {
        let machine = audit_determine_machine(architecture.rawValue)
        return machine < 0 ? nil : machine
    }

    /// The `AUDIT_ARCH_*` value the kernel stores in the rule.
    var auditArch: UInt32? {
        guard let machine else { return nil }
        let elf = audit_machine_to_elf(machine)
        return elf == 0 ? nil : elf
    }

    /// The system call numbers in the rule's mask.
    var syscallNumbers: Set<Int32> {
        guard let machine else { return [] }
        return Set(syscalls.map { audit_name_to_syscall($0, machine) }.filter { $0 >= 0 })
    }
}
