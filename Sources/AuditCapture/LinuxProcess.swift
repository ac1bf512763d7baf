import Capture
#if canImport(Glibc)
import Glibc
#endif

/// What /proc tells about a process, for naming the owner of audit and checking namespaces.
public enum LinuxProcess {
    /// Whether a process with this pid exists (it may belong to another user).
    public static func isAlive(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    /// The process's command name (`/proc/PID/comm`, at most 15 bytes); nil when it is gone.
    public static func commandName(of pid: Int32) -> String? {
        guard let text = SmallProcFile.text("/proc/\(pid)/comm") else { return nil }
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }

    /// The first namespace of this process, among PID and user, that is not the host's initial one
    /// (`"PID"`, `"user"`), as in a container; nil in the initial ones. The kernel gives the initial
    /// namespaces fixed inode numbers (`PROC_PID_INIT_INO`, `PROC_USER_INIT_INO`); `/proc/self/ns/…`
    /// links name the inode (`pid:[4026531836]`). Nil too when the links cannot be read.
    public static func nonInitialNamespace() -> String? {
        for (kind, name, initial) in [("pid", "PID", "4026531836"), ("user", "user", "4026531837")] {
            var target = [CChar](repeating: 0, count: 64)
            let count = readlink("/proc/self/ns/\(kind)", &target, target.count - 1)
            guard count > 0 else { continue }
            let link = String(decoding: target[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if link != "\(kind):[\(initial)]" { return name }
        }
        return nil
    }
}
