/// The agent's one record of the processes it has seen execute, shared by every source, so an
/// event can name its parent (`parentProcName`, `parentExePath`, `parentCommandLine`) without
/// reading `/proc`.
///
/// A process is its pid and its start time: an entry is the answer for a pid only when its start
/// time is the one asked for, so a reused pid never lends a stale entry. Sources that know the
/// parent's start time (eBPF, /proc) pass it; audit sources read it from `/proc` in live capture.
/// In replay there are no start times: entries are keyed by pid alone, and a reused pid can lend
/// its old entry (the log may come from another host: `/proc` is never read).
///
/// Bounded in entries and in bytes by two generations: when the current one would hold more than
/// half of either budget it becomes the previous one and the older generation is forgotten (counted in
/// ``evictions``); an entry found in the previous generation moves to the current one, so a
/// long-lived parent (a login shell) stays. O(1) per exec. A command line recorded deferred (see
/// ``KnownProcess/init(programName:exePath:deferredCommandLine:)``) is decoded when a child first
/// asks for its process, and the entry's bytes counted anew.
public struct ProcessTable {
    struct Entry {
        var process: KnownProcess
        /// Nil in replay, or when the process was gone before its start time could be read.
        var startTime: UInt64?
        var bytes: Int
    }

    private var current: [Int64: Entry] = [:]
    private var currentBytes = 0
    private var previous: [Int64: Entry] = [:]
    private var previousBytes = 0
    private let generationEntries: Int
    private let generationBytes: Int
    /// Entries forgotten to stay within the budgets.
    public private(set) var evictions = 0

    public static let defaultCapacity = 32768
    public static let defaultMaximumBytes = 32 << 20

    public init(capacity: Int = ProcessTable.defaultCapacity, maximumBytes: Int = ProcessTable.defaultMaximumBytes) {
        generationEntries = max(1, capacity / 2)
        generationBytes = max(1, maximumBytes / 2)
    }

    /// Entries held.
    public var count: Int { current.count + previous.count }
    /// Approximate bytes held by the entries.
    public var heldBytes: Int { currentBytes + previousBytes }

    /// Process `pid`, started at `startTime` (nil when unknown), executed `process`.
    /// The process is moved into its entry (`consuming`), not copied: a copy retained its texts.
    public mutating func record(pid: Int64, startTime: UInt64?, _ process: consuming KnownProcess) {
        let held = Self.entryBytes + process.footprintBytes
        // A pid that exec'd before, in this generation: replaced in its slot, one lookup, when that
        // does not take the generation over its budgets.
        if let slot = current.index(forKey: pid) {
            let bytes = currentBytes - Self.bytes(of: &current.values[slot]) + held
            if current.count == 1 || current.count <= generationEntries && bytes <= generationBytes {
                current.values[slot] = Entry(process: consume process, startTime: startTime, bytes: held)
                currentBytes = bytes
                return
            }
            currentBytes -= current.remove(at: slot).value.bytes
        }
        // Not in the current generation (any more): only the previous one may still hold the pid.
        if let old = previous.removeValue(forKey: pid) { previousBytes -= old.bytes }
        if !current.isEmpty,
            current.count + 1 > generationEntries || currentBytes + held > generationBytes
        {
            evictions += previous.count
            previous = current
            previousBytes = currentBytes
            current = [:]
            currentBytes = 0
        }
        current[pid] = Entry(process: consume process, startTime: startTime, bytes: held)
        currentBytes += held
    }

    /// What is known of process `pid` started at `startTime` (nil: unknown, as in replay); nil
    /// when the table has no entry for that process.
    public mutating func process(ofPID pid: Int64, startTime: UInt64?) -> KnownProcess? {
        // Each generation is hashed into once: a child's event asks this for every exec.
        if let slot = current.index(forKey: pid) {
            var grown = 0
            let found = Self.process(in: &current.values[slot], startTime: startTime, grown: &grown)
            currentBytes += grown
            return found
        }
        guard let slot = previous.index(forKey: pid), previous.values[slot].startTime == startTime else { return nil }
        var entry = previous.remove(at: slot).value
        previousBytes -= entry.bytes
        if entry.process.commandLineIsDeferred { _ = Self.decodeCommandLine(of: &entry) }
        current[pid] = entry
        currentBytes += entry.bytes
        return entry.process
    }

    // Entries are reached in place (`inout`): the getter of `Dictionary.Values`' subscript copies
    // the entry, retaining each of its texts, for every field read.

    /// An entry's bytes.
    private static func bytes(of entry: inout Entry) -> Int { entry.bytes }

    /// The entry's process when it is the one started at `startTime`, its deferred command line
    /// decoded; `grown` is set to how much the entry's bytes changed.
    private static func process(in entry: inout Entry, startTime: UInt64?, grown: inout Int) -> KnownProcess? {
        guard entry.startTime == startTime else { return nil }
        if entry.process.commandLineIsDeferred { grown = decodeCommandLine(of: &entry) }
        return entry.process
    }

    /// Decodes an entry's deferred command line, kept so its other children find the text, and
    /// counts its bytes anew; returns by how much they changed.
    private static func decodeCommandLine(of entry: inout Entry) -> Int {
        entry.process.decodeCommandLine()
        let bytes = Self.entryBytes + entry.process.footprintBytes
        defer { entry.bytes = bytes }
        return bytes - entry.bytes
    }

    /// The parent `pid` of an event: from the table when its entry is that process's, else (in
    /// live capture) from `/proc`, checked against the start time and then kept.
    ///
    /// `startTime`: the parent's start time when the source knows it (eBPF, /proc); nil makes a
    /// live lookup read it (audit), and means "unknown" in replay (`live` nil). A parent already
    /// gone from `/proc` is answered from the table alone.
    public mutating func parent(
        ofPID pid: Int64,
        startTime known: UInt64? = nil,
        live: (any RunningProcesses)?
    ) -> KnownProcess? {
        guard pid > 0 else { return nil }
        guard let live else { return process(ofPID: pid, startTime: known) }
        guard let startTime = known ?? live.startTime(ofPID: pid) else {
            // Gone: the table is all that is known of it.
            guard let entry = current[pid] ?? previous[pid] else { return nil }
            return process(ofPID: pid, startTime: entry.startTime)
        }
        if let process = process(ofPID: pid, startTime: startTime) { return process }
        // Not seen, or the entry is an earlier process's that had the same pid.
        guard let read = live.process(ofPID: pid), read.startTime == startTime else { return nil }
        record(pid: pid, startTime: startTime, read.process)
        return read.process
    }

    /// A dictionary slot (key, entry, hash metadata; the table is about half full).
    static let entryBytes = 2 * (MemoryLayout<Int64>.stride + MemoryLayout<Entry>.stride + 1)
}
