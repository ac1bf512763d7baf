import CLibcap
import Capture

#if canImport(Glibc)
import Glibc
#endif

/// Gives up what the agent does not need once its capture source is set up.
///
/// Capabilities belong to threads. The capture thread — the only one that talks to the kernel's
/// audit or connector sockets — keeps exactly the capabilities its source needs and nothing else
/// (permitted, effective and bounding sets). When a user is configured, the whole process then
/// switches to it: glibc applies the uid change to every thread, which clears the capabilities of
/// all threads but the capture thread (which asked to keep its permitted set across the switch).
/// (The process must not leave its main thread in `dispatch_main()`, which glibc no longer
/// counts as a thread: the command line's entry point keeps it waiting on a semaphore.)
/// Without a user, the other threads (journal, status) keep root's capabilities: run the agent
/// with a user (or a systemd unit with a capability bounding set) to remove them too.
public enum PrivilegeDrop {
    /// A capability by number and name (linux/capability.h).
    public struct Capability: Sendable, Equatable {
        public var number: Int32
        public var name: String

        public static let dacReadSearch = Capability(number: 2, name: "cap_dac_read_search")
        public static let netAdmin = Capability(number: 12, name: "cap_net_admin")
        public static let sysPtrace = Capability(number: 19, name: "cap_sys_ptrace")
        public static let auditControl = Capability(number: 30, name: "cap_audit_control")
        public static let auditRead = Capability(number: 37, name: "cap_audit_read")
    }

    /// What each source needs while it runs (after its socket is open).
    public static func capabilities(forSource name: String) -> [Capability] {
        switch name {
        case "audit-unicast": [.auditControl]  // status reads, and handing audit back on exit
        case "audit-multicast": [.auditControl, .auditRead]  // rules, status; reading the group
        case "proc-connector": [.netAdmin, .sysPtrace, .dacReadSearch]  // unsubscribe; /proc/PID/exe, cwd
        case "proc-poll": [.sysPtrace, .dacReadSearch]  // /proc/PID/exe, cwd of every user
        default: []  // audisp reads its standard input; ebpf reads its ring (loaded and attached before)
        }
    }

    /// The user to switch to: its name, uid and gid.
    public struct User: Sendable, Equatable {
        public var name: String
        public var uid: uid_t
        public var gid: gid_t

        /// Looks the user up in the user database.
        public init(named name: String) throws(CaptureError) {
            var entry = passwd()
            var result: UnsafeMutablePointer<passwd>?
            var buffer = [CChar](repeating: 0, count: 4096)
            guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
                throw CaptureError(operation: "look up user \(name)", errno: ENOENT, detail: "no such user")
            }
            self.name = name
            uid = entry.pw_uid
            gid = entry.pw_gid
        }
    }

    /// Called on the capture thread once its source is set up: keeps `keep` on this thread only,
    /// then (when `user` is given) switches the whole process to that user.
    public static func apply(keep: [Capability], user: User?) throws(CaptureError) {
        let numbers = keep.map { cap_value_t($0.number) }
        // Nothing can be given back later: shrink the bounding set first (needs CAP_SETPCAP).
        if execwatch_prctl(PR_CAPBSET_READ, UInt(CAP_SETPCAP)) == 1 {
            for capability in 0...lastCapability() where !numbers.contains(cap_value_t(capability)) {
                _ = execwatch_prctl(PR_CAPBSET_DROP, UInt(capability))
            }
        }
        if let user {
            // Keep this thread's permitted set across the switch; every other thread loses all.
            guard execwatch_prctl(PR_SET_KEEPCAPS, 1) == 0 else {
                throw CaptureError(operation: "prctl(PR_SET_KEEPCAPS)", errno: errno)
            }
            // glibc makes every thread it started take the new ids (and drop their capabilities).
            var groups = [user.gid]
            guard setgroups(1, &groups) == 0 else { throw CaptureError(operation: "setgroups", errno: errno) }
            guard setresgid(user.gid, user.gid, user.gid) == 0 else {
                throw CaptureError(operation: "setresgid(\(user.gid))", errno: errno)
            }
            guard setresuid(user.uid, user.uid, user.uid) == 0 else {
                throw CaptureError(operation: "setresuid(\(user.uid)) to \(user.name)", errno: errno)
            }
        }
        guard let state = cap_init() else { throw CaptureError(operation: "cap_init", errno: errno) }
        defer { cap_free(UnsafeMutableRawPointer(state)) }
        if !numbers.isEmpty {
            var values = numbers
            guard cap_set_flag(state, CAP_PERMITTED, Int32(values.count), &values, CAP_SET) == 0,
                cap_set_flag(state, CAP_EFFECTIVE, Int32(values.count), &values, CAP_SET) == 0
            else { throw CaptureError(operation: "cap_set_flag", errno: errno) }
        }
        guard cap_set_proc(state) == 0 else {
            throw CaptureError(operation: "cap_set_proc", errno: errno, detail: "keeping \(keep.map(\.name))")
        }
        if user != nil { _ = execwatch_prctl(PR_SET_KEEPCAPS, 0) }
    }

    /// The highest capability number this kernel knows.
    static func lastCapability() -> Int {
        let fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 40 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return 40 }
        return Int(String(decoding: buffer[0..<count], as: UTF8.self).filter(\.isNumber)) ?? 40
    }
}
