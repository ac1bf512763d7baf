import ExecEvents

/// What /proc showed of one process right after it executed a program.
public struct ProcessSnapshot: Sendable, Equatable {
    /// The execution as a `LINUX_PROCESS_EXEC` event.
    public var event: ExecEvent
    /// Clock ticks after boot when the process started (`/proc/PID/stat` field 22): with the pid,
    /// it names one process, even after the pid is reused.
    public var startTime: UInt64

    public init(event: ExecEvent, startTime: UInt64) {
        self.event = event
        self.startTime = startTime
    }
}

/// What reading a process from /proc gave.
public enum ProcessSnapshotOutcome: Sendable, Equatable {
    case taken(ProcessSnapshot)
    /// The process exited before its program and arguments could be read.
    case gone
    /// A kernel thread: it runs no program, so there is nothing to report.
    case kernelThread
    /// The process exists but shows no arguments: it is between exec and its program's first
    /// instruction, or on its way out. Reading it again shortly tells which.
    case notYetReadable
}
