#if canImport(Glibc)
import Glibc
#endif

/// The effective capability set of one thread of this process (`CapEff` of its /proc status).
/// Capabilities belong to threads: the capture thread keeps what its source needs, and the other
/// threads may hold more or less. Sources check what they need with it before asking the kernel;
/// status shows the capture thread's by name.
public struct EffectiveCapabilities: Sendable, Equatable {
    /// Capability numbers (linux/capability.h) as bits.
    public var mask: UInt64

    /// Which thread's set to read.
    public enum Thread: Sendable, Equatable {
        /// The thread that asks (`/proc/thread-self`).
        case calling
        /// The process's main thread (`/proc/self`).
        case main
        /// A thread of this process by its id (`/proc/self/task/TID`).
        case task(Int32)
    }

    public init(mask: UInt64) {
        self.mask = mask
    }

    /// Reads the set of `thread`; nil when its status cannot be read (the thread ended).
    public init?(of thread: Thread) {
        let path =
            switch thread {
            case .calling: "/proc/thread-self/status"
            case .main: "/proc/self/status"
            case .task(let id): "/proc/self/task/\(id)/status"
            }
        guard let mask = Self.readMask(path) else { return nil }
        self.mask = mask
    }

    /// Whether capability `number` (linux/capability.h) is in the set.
    public func contains(_ number: Int) -> Bool {
        number >= 0 && number < 64 && mask & (1 << UInt64(number)) != 0
    }

    /// The names of the capabilities in the set (`cap_audit_control`, …), by number; unnamed
    /// (newer) ones are left out.
    public var names: [String] {
        Self.names.enumerated().compactMap { number, name in contains(number) ? name : nil }
    }

    /// Capability names by number (linux/capability.h).
    public static let names = [
        "cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid", "cap_kill", "cap_setgid",
        "cap_setuid", "cap_setpcap", "cap_linux_immutable", "cap_net_bind_service", "cap_net_broadcast",
        "cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner", "cap_sys_module", "cap_sys_rawio",
        "cap_sys_chroot", "cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
        "cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease", "cap_audit_write",
        "cap_audit_control", "cap_setfcap", "cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
        "cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
    ]

    /// The hexadecimal after `CapEff:` in a /proc status file.
    static func readMask(_ path: String) -> UInt64? {
        guard let text = SmallProcFile.text(path) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("CapEff:") {
            return UInt64(line.dropFirst("CapEff:".count).trimmingPrefix(while: { $0 == " " || $0 == "\t" }), radix: 16)
        }
        return nil
    }
}
