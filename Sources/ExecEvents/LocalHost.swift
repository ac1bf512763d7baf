#if canImport(Glibc)
import Glibc
#endif

extension EventTime {
    /// The wall clock (CLOCK_REALTIME) now, with millisecond precision: the time of events seen
    /// without audit, and of the agent's own bookkeeping. Audit events carry the kernel's time.
    public static var now: EventTime {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return EventTime(millisecondsSinceEpoch: Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000)
    }
}

/// This host, as events name it when no `hostName` is configured.
public enum LocalHost {
    /// `gethostname(2)`; `localhost` when it fails.
    public static var name: String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
