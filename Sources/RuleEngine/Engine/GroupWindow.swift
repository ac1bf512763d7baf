import ExecEvents

/// One matching event as a group's window keeps it: its time, whether an incident has counted it,
/// and the values the aggregate constraint reads (none for `COUNT(*)`-only rules).
struct WindowEntry: Sendable {
    var time: EventTime
    var counted: Bool
    var values: [AttributeValue?]

    /// Heap bytes of `values` (nothing for `COUNT(*)`-only rules).
    var heldBytes: Int { values.footprintBytes - MemoryLayout<[AttributeValue?]>.stride }
}

extension ExecEvent {
    /// Bytes held beyond the event's inline size (its text and argv).
    var heldBytes: Int { footprintBytes - MemoryLayout<ExecEvent>.stride }
}

/// Identifies a group: the engine's number for the rule (stable while the rule is unchanged) and
/// the group values, `hostName` first.
struct GroupKey: Hashable, Sendable, MemoryFootprint {
    var rule: Int
    var values: [AttributeValue?]

    var footprintBytes: Int { MemoryLayout<Int>.stride + values.footprintBytes }
}

/// The sliding window of one group of one rule.
///
/// Entries are kept sorted by event time. Entries at or before `newest − window` are dropped: no
/// later event can see them. An event at or before `newest − window` itself restarts the window
/// from it: sources deliver a host's events in time order, so such an event means the clock
/// stepped back (by more than the window); the entries kept belong to a time the clock has left,
/// and keeping them would put every later event of the group outside the window until the clock
/// caught up again (an hour without detection after a step back of an hour).
struct GroupWindow: Sendable, MemoryFootprint {
    private(set) var entries: [WindowEntry] = []
    /// Index of the first live entry (entries before it are dropped; compacted now and then).
    private var head = 0
    /// Every entry before this index is counted (or dropped): ``markCounted(_:)`` starts there,
    /// not at the start of a range that mostly holds entries counted before.
    private var firstUncounted = 0
    private(set) var newest: EventTime
    let incidentId: IncidentID
    /// The latest matching events while the group has no incident, for `triggerEvents`.
    private(set) var recentEvents: [ExecEvent] = []
    var hasIncident = false
    /// Bytes held by the values of `entries` (dropped ones too, until compacted) and by
    /// `recentEvents`, beyond their inline size: kept up to date so ``footprintBytes`` is O(1).
    private var heldByEntryValues = 0
    private var heldByRecentEvents = 0

    /// The window, its entries and remembered events (buffers by capacity).
    var footprintBytes: Int {
        var total = MemoryLayout<Self>.stride + heldByEntryValues + heldByRecentEvents
        if entries.capacity > 0 {
            total += HeapAllocation.bytes(holding: entries.capacity * MemoryLayout<WindowEntry>.stride)
        }
        if recentEvents.capacity > 0 {
            total += HeapAllocation.bytes(holding: recentEvents.capacity * MemoryLayout<ExecEvent>.stride)
        }
        return total
    }

    init(incidentId: IncidentID, time: EventTime) {
        self.incidentId = incidentId
        self.newest = time
    }

    var liveCount: Int { entries.count - head }

    /// Adds an entry in time order and drops what has left the window. Returns how many entries
    /// were dropped because of `maxEntries`.
    mutating func insert(_ entry: WindowEntry, windowMilliseconds: Int64, maxEntries: Int) -> Int {
        if entry.time.millisecondsSinceEpoch <= newest.millisecondsSinceEpoch - windowMilliseconds {
            head = entries.count  // the clock stepped back: the window restarts here
            newest = entry.time
        }
        if entry.time > newest { newest = entry.time }
        var position = entries.count
        while position > head, entries[position - 1].time > entry.time { position -= 1 }
        entries.insert(entry, at: position)
        firstUncounted = min(firstUncounted, position)
        heldByEntryValues += entry.heldBytes
        let horizon = newest.millisecondsSinceEpoch - windowMilliseconds
        while head < entries.count, entries[head].time.millisecondsSinceEpoch <= horizon { head += 1 }
        var capped = 0
        while liveCount > maxEntries {
            head += 1
            capped += 1
        }
        if head > 32, head * 2 > entries.count {
            for k in 0..<head { heldByEntryValues -= entries[k].heldBytes }
            entries.removeFirst(head)
            firstUncounted = max(firstUncounted - head, 0)
            head = 0
        }
        return capped
    }

    /// Index range of the live entries with time in `(time − window, time]`.
    func range(endingAt time: EventTime, windowMilliseconds: Int64) -> Range<Int> {
        let lower = time.millisecondsSinceEpoch - windowMilliseconds
        var start = head
        var high = entries.count
        while start < high {  // first entry with time > lower
            let mid = (start + high) / 2
            if entries[mid].time.millisecondsSinceEpoch > lower { high = mid } else { start = mid + 1 }
        }
        var end = start
        high = entries.count
        while end < high {  // first entry with time > time
            let mid = (end + high) / 2
            if entries[mid].time > time { high = mid } else { end = mid + 1 }
        }
        return start..<end
    }

    /// Whether the range holds entries tagged `0`, `1`, … `count − 1` (the value in slot `tagSlot`)
    /// at times that do not decrease, as a Sigma `temporal_ordered` correlation asks: each rule's
    /// earliest match at or after the previous rule's chosen one (entries are in time order, so
    /// taking the earliest is never worse). One event matching two consecutive rules serves both.
    func hasTagsInOrder(_ range: Range<Int>, tagSlot: Int, count: Int) -> Bool {
        var start = range.lowerBound  // the first entry not earlier than the previous rule's match
        for tag in 0..<count {
            let wanted = AttributeValue.integer(Int64(tag))
            var k = start
            while k < range.upperBound, entries[k].values[tagSlot] != wanted { k += 1 }
            guard k < range.upperBound else { return false }
            start = k
            while start > range.lowerBound, entries[start - 1].time == entries[k].time { start -= 1 }
        }
        return true
    }

    /// Marks the range's entries as counted; returns how many were not yet, and the earliest of them.
    mutating func markCounted(_ range: Range<Int>) -> (count: Int64, earliest: EventTime?) {
        var count: Int64 = 0
        var earliest: EventTime?
        // The entries of the range before `firstUncounted` are counted already.
        let start = max(range.lowerBound, min(firstUncounted, range.upperBound))
        for k in start..<range.upperBound where !entries[k].counted {
            entries[k].counted = true
            count += 1
            if earliest == nil { earliest = entries[k].time }
        }
        if range.lowerBound <= firstUncounted {  // counted from before the range to its end
            firstUncounted = max(firstUncounted, range.upperBound)
            while firstUncounted < entries.count, entries[firstUncounted].counted { firstUncounted += 1 }
        }
        return (count, earliest)
    }

    mutating func remember(_ event: ExecEvent, limit: Int) {
        guard !hasIncident, limit > 0 else { return }
        if recentEvents.count >= limit {
            let excess = recentEvents.count - limit + 1
            for k in 0..<excess { heldByRecentEvents -= recentEvents[k].heldBytes }
            recentEvents.removeFirst(excess)
        }
        recentEvents.append(event)
        heldByRecentEvents += event.heldBytes
    }

    /// The remembered events inside `(time − window, time]`, in time order, then forgets them all.
    mutating func takeTriggerEvents(endingAt time: EventTime, windowMilliseconds: Int64) -> [ExecEvent] {
        let lower = time.millisecondsSinceEpoch - windowMilliseconds
        let events = recentEvents.filter { $0.eventTime.millisecondsSinceEpoch > lower && $0.eventTime <= time }
            .sorted { $0.eventTime < $1.eventTime }
        recentEvents = []
        heldByRecentEvents = 0
        return events
    }
}
