/// What the live host says about a running process, for the ``ProcessTable``'s answers about
/// parents: in live capture the agent passes one that reads `/proc`; replay passes none, since its
/// log may come from another host or another time.
///
/// Called on the capture thread only, and only when needed: once per exec for its start time, and
/// when an event's parent is looked up.
public protocol RunningProcesses {
    /// When process `pid` started (clock ticks after boot, `/proc/PID/stat` field 22): with the
    /// pid, it names one process. Nil when there is no such process (any more).
    func startTime(ofPID pid: Int64) -> UInt64?

    /// The program name of process `pid` as `/proc` shows it (DESIGN.md's /proc column: `comm`,
    /// or the full name it was cut from), with its start time; nil when there is no such process.
    func program(ofPID pid: Int64) -> (name: String, startTime: UInt64)?
}
