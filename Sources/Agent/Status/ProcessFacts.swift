import Capture

#if canImport(Glibc)
import Glibc
#endif

/// Facts about this process that status shows, read from /proc/self.
public enum ProcessFacts {
    /// Resident set size in bytes (`/proc/self/statm`).
    public static func residentBytes() -> Int {
        guard let text = SmallProcFile.text("/proc/self/statm") else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Names of the effective capabilities (`CapEff`) of one thread of this process (0: the main
    /// thread). Capabilities belong to threads: the capture thread keeps what its source needs.
    public static func effectiveCapabilities(thread: Int32 = 0) -> [String] {
        EffectiveCapabilities(of: thread == 0 ? .main : .task(thread))?.names ?? []
    }

    /// The name of the user the process runs as.
    public static func userName() -> String {
        let uid = getuid()
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return String(uid) }
        return String(cString: name)
    }
}
