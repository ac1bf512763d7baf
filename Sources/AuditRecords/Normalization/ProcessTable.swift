/// The agent's own record of which program each process last executed, so an event can name its
/// parent's program (`parentProcName`) without reading `/proc`.
///
/// A process is its pid and its start time. In live capture the start time is read when the exec
/// is seen, and checked again when the process is looked up as a parent: an entry whose start time
/// differs belongs to an earlier process that had the same pid, and is discarded. A parent the table
/// does not know (it started before the agent) is named from `/proc`. In replay there are no start
/// times: an entry is keyed by pid alone, and a reused pid can lend its old name.
///
/// Bounded by two generations: when the current one is full it becomes the previous one and the
/// older generation is forgotten, so memory stays under `capacity` entries at O(1) per exec.
struct ProcessTable {
    struct Entry: Equatable {
        var programName: String
        /// Nil in replay, or when the process was gone before its start time could be read.
        var startTime: UInt64?
    }

    private var current: [Int64: Entry] = [:]
    private var previous: [Int64: Entry] = [:]
    private let generationSize: Int

    init(capacity: Int = 32768) {
        generationSize = max(1, capacity / 2)
    }

    func entry(ofPID pid: Int64) -> Entry? { current[pid] ?? previous[pid] }

    /// Process `pid` executed `programName`; in live capture, its start time is read from `live`.
    mutating func record(pid: Int64, programName: String, live: (any RunningProcesses)?) {
        record(pid: pid, Entry(programName: programName, startTime: live?.startTime(ofPID: pid)))
    }

    /// The program name of the process `pid` now (a parent, as an event names it): from the table
    /// when the entry is that process's, else (in live capture) from `/proc`.
    mutating func parentName(ofPID pid: Int64, live: (any RunningProcesses)?) -> String? {
        guard let live else { return entry(ofPID: pid)?.programName }
        if let entry = entry(ofPID: pid) {
            // The parent is gone: the table is all that is known of it.
            guard let startTime = live.startTime(ofPID: pid) else { return entry.programName }
            if entry.startTime == startTime { return entry.programName }
            // Another process has the pid now: the entry was recorded for an earlier one (or for
            // one already gone when it was recorded, so not this one either).
            forget(pid: pid)
        }
        guard let program = live.program(ofPID: pid) else { return nil }
        record(pid: pid, Entry(programName: program.name, startTime: program.startTime))
        return program.name
    }

    private mutating func record(pid: Int64, _ entry: Entry) {
        current[pid] = entry
        if current.count >= generationSize {
            previous = current
            current = [:]
            current.reserveCapacity(generationSize)
        }
    }

    private mutating func forget(pid: Int64) {
        current[pid] = nil
        previous[pid] = nil
    }
}
