import CPidfd

#if canImport(Glibc)
import Glibc
#endif

/// Start times of processes read once from `/proc` and then vouched for by a pidfd, so that the
/// parent of every exec an audit source reports costs one `poll` instead of reading
/// `/proc/PID/stat` (which was a sixth of the agent's CPU with many rules loaded).
///
/// A pidfd names one process, not a pid: while it does not report an exit, the pid is still that
/// process's and its start time is the one read. The pidfd is opened before the start time is read
/// and checked after, so a process replaced under its pid between the two is never vouched for.
/// Holds at most `capacity` descriptors (close-on-exec); when full, they are all closed and the
/// next parents are read again. Where pidfds are missing (Linux < 5.3, a system-call filter) every
/// ask reads `/proc`, as before.
///
/// One instance belongs to one thread (the capture thread).
final class ConfirmedStartTimes {
    private struct Confirmed {
        var descriptor: Int32
        var startTime: UInt64
    }

    private var confirmed: [Int32: Confirmed] = [:]
    private let capacity: Int
    private var pidfdsWork = true
    /// How many times a start time was read rather than vouched for (for tests).
    private(set) var reads = 0

    init(capacity: Int = 64) {
        self.capacity = max(1, capacity)
    }

    deinit {
        for entry in confirmed.values { close(entry.descriptor) }
    }

    /// Descriptors held.
    var count: Int { confirmed.count }

    /// The start time of process `pid`: vouched for by its pidfd when one is held and the process
    /// has not exited, else `read` (nil: no such process) and, when a pidfd shows the process
    /// outlived the read, kept.
    func startTime(ofPID pid: Int32, read: () -> UInt64?) -> UInt64? {
        if let entry = confirmed[pid] {
            if Self.isRunning(entry.descriptor) { return entry.startTime }
            close(entry.descriptor)
            confirmed[pid] = nil
        }
        reads += 1
        guard pidfdsWork else { return read() }
        let descriptor = execwatch_pidfd_open(pid)
        guard descriptor >= 0 else {
            // ESRCH: no such process. Out of descriptors: try again later. Anything else (ENOSYS,
            // a filter's EPERM): pidfds are not to be had here.
            let code = errno
            if code != ESRCH && code != EMFILE && code != ENFILE { pidfdsWork = false }
            return read()
        }
        let startTime = read()
        guard let startTime, Self.isRunning(descriptor) else {
            // Gone, or exited after the read: answered, not kept.
            close(descriptor)
            return startTime
        }
        if confirmed.count >= capacity {
            for entry in confirmed.values { close(entry.descriptor) }
            confirmed.removeAll(keepingCapacity: true)
        }
        confirmed[pid] = Confirmed(descriptor: descriptor, startTime: startTime)
        return startTime
    }

    /// A pidfd turns readable when its process exits.
    private static func isRunning(_ descriptor: Int32) -> Bool {
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&request, 1, 0) == 0
    }
}
