/// The processes the poller saw on its last scan, and what changed since: the diff that turns
/// scans of /proc into executions. No I/O: scans go in, executions come out.
///
/// - A process is identified by (pid, start time), so a reused pid is a new process.
/// - A new process whose image equals its parent's was forked and has not executed a program yet:
///   it is remembered, not reported; its exec is reported when its image changes.
/// - A known process whose image changed executed a new program without forking (`exec` in a
///   shell script): reported again.
/// - A process seen only without memory (caught in the middle of its exec) is reported once it
///   has an image.
/// - The first scan only records what runs already.
struct KnownProcesses {
    /// Why a process is reported.
    enum Change: Equatable {
        /// A process not seen before, running a program its parent does not run.
        case started(ScannedProcess)
        /// A process seen before that now runs another program.
        case executed(ScannedProcess)

        var process: ScannedProcess {
            switch self {
            case .started(let process), .executed(let process): return process
            }
        }
    }

    private var known: [Int32: ScannedProcess] = [:]
    private var next: [Int32: ScannedProcess] = [:]
    private var hasScanned = false

    var count: Int { known.count }

    /// Forgets a process, so the next scan reports it again if it still runs (it could not be
    /// read when it was reported).
    mutating func forget(pid: Int32) {
        known[pid] = nil
    }

    /// Takes a complete scan; returns the processes to report, in scan order.
    mutating func update(with scan: [ScannedProcess]) -> [Change] {
        next.removeAll(keepingCapacity: true)
        for process in scan { next[process.pid] = process }
        defer {
            swap(&known, &next)
            hasScanned = true
        }
        guard hasScanned else { return [] }
        var changes: [Change] = []
        for process in scan where !process.isKernelThread {
            if let previous = known[process.pid], previous.startTime == process.startTime,
                previous.image != .none
            {
                if process.image == .none {
                    next[process.pid] = previous  // exiting: keep the last live image
                } else if process.image != previous.image {
                    changes.append(.executed(process))
                }
            } else if process.image != .none, !isForkedCopy(process) {
                // New, or seen before only without memory (caught in the middle of its exec).
                changes.append(.started(process))
            }
        }
        return changes
    }

    /// Whether the process still runs its parent's program (current or as of the last scan).
    private func isForkedCopy(_ process: ScannedProcess) -> Bool {
        if let parent = next[process.parentPID], parent.image == process.image { return true }
        if let parent = known[process.parentPID], parent.image == process.image { return true }
        return false
    }
}
