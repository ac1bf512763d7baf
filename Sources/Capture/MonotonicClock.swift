import ExecEvents

#if canImport(Glibc)
import Glibc
#endif

/// The monotonic clock capture loops time their timeouts with, and the one the kernel stamps
/// proc events with (`ktime_get_ns`). The wall clock is `EventTime.now`.
public enum MonotonicClock {
    public static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    public static func milliseconds() -> Int {
        Int(nanoseconds() / 1_000_000)
    }

    /// The wall-clock time of a monotonic instant in the past (a kernel event's timestamp).
    public static func wallTime(ofNanoseconds instant: UInt64) -> EventTime {
        let wall = EventTime.now.millisecondsSinceEpoch
        let monotonic = nanoseconds()
        let ago = monotonic >= instant ? Int64((monotonic - instant) / 1_000_000) : 0
        return EventTime(millisecondsSinceEpoch: wall - ago)
    }
}
