/// The `procName` of processes a reader has seen, so a child's `parentProcName` is the parent's
/// full name as invoked rather than its 15-byte `comm`.
///
/// Entries are keyed by pid and checked against the start time, so a reused pid never lends its
/// old name. Bounded: when full, the table starts over. Shared by the /proc and eBPF sources.
public struct ProcessNames {
    private var entries: [Int32: (startTime: UInt64, name: String)] = [:]
    private let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    public mutating func record(pid: Int32, startTime: UInt64, name: String) {
        if entries.count >= capacity, entries[pid] == nil { entries.removeAll(keepingCapacity: true) }
        entries[pid] = (startTime, name)
    }

    public func name(of pid: Int32, startTime: UInt64) -> String? {
        guard let entry = entries[pid], entry.startTime == startTime else { return nil }
        return entry.name
    }
}
