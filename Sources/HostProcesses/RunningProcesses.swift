/// What the live host says about a running process, for the ``ProcessTable``'s answers about
/// parents the agent did not see execute: in live capture the agent passes one that reads `/proc`;
/// replay passes none, since its log may come from another host or another time.
///
/// Called on the capture thread only, and only when needed.
public protocol RunningProcesses {
    /// When process `pid` started (clock ticks after boot, `/proc/PID/stat` field 22): with the
    /// pid, it names one process. Nil when there is no such process (any more).
    func startTime(ofPID pid: Int64) -> UInt64?

    /// What `/proc` shows of process `pid` (its program name as DESIGN.md's /proc column says,
    /// `exe`, `cmdline`), with its start time; nil when there is no such process.
    func process(ofPID pid: Int64) -> (process: KnownProcess, startTime: UInt64)?
}
