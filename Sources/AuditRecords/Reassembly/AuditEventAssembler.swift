import ExecEvents

#if canImport(Glibc)
import Glibc
#endif

/// Turns a stream of audit records into complete exec events, one per (node, audit serial).
///
/// Records of one event may arrive interleaved with other events' and out of order. An event is
/// complete at its EOE record; or, for logs without EOE, once a record of another event stamped at
/// least ``graceTime`` away from its own (later, or earlier after a clock or log jump) has been
/// read; or when ``finish(_:)`` ends the input; or, to bound memory, when more than
/// ``maximumPending`` events are open (counted in ``AuditStatistics/forcedCompletions``).
/// The kernel stamps every record of one event with the same time, so a record whose (node,
/// serial) matches an open event but whose time differs belongs to a new event (serials restart
/// at boot; concatenated logs reuse them): the open one is completed first.
///
/// Only records that can be part of an exec (SYSCALL, EXECVE, CWD, PATH, PROCTITLE, BPRM_FCAPS,
/// EOE) are kept; events of other syscalls are dropped as soon as their SYSCALL record says so.
public struct AuditEventAssembler {
    /// A complete exec event's records, folded into one value.
    public struct CompletedExec {
        var node: String?
        var serial: UInt64
        var exec: PendingExec
    }

    public var graceTime: Int64
    public var maximumPending: Int
    public private(set) var statistics = AuditStatistics()

    private struct Key: Hashable {
        var node: Int
        var serial: UInt64
    }

    private var pending: [Key: PendingExec] = [:]
    /// Keys in the order their events were opened (may hold keys already completed).
    private var openingOrder: [Key] = []
    private var openingHead = 0
    private var nodes: [[UInt8]] = []
    /// The time of the latest record read: the stream's clock for the grace time.
    private var clock = EventTime(millisecondsSinceEpoch: 0)

    /// - Parameters:
    ///   - graceMilliseconds: how much later (in event time) another record must be before an
    ///     event without EOE is taken as complete.
    ///   - maximumPending: how many events may be open at once.
    public init(graceMilliseconds: Int64 = 2000, maximumPending: Int = 8192) {
        self.graceTime = graceMilliseconds
        self.maximumPending = maximumPending
    }

    /// Reads one record as auditd writes it (log line or plugin string format, without the
    /// newline). Returns the reason when the line is not an audit record; nothing else is lost.
    public mutating func ingest(line: UnsafeRawBufferPointer, _ emit: (CompletedExec) -> Void) -> String? {
        statistics.records += 1
        do {
            let header = try AuditRecordHeader.parse(line: line)
            ingest(header, emit)
            return nil
        } catch {
            statistics.malformedRecords += 1
            return error.reason
        }
    }

    /// Reads one record as the kernel delivers it over netlink: the message type and its payload
    /// (`audit(S.MS:SERIAL): fields…`).
    public mutating func ingest(
        type: UInt16,
        payload: UnsafeRawBufferPointer,
        _ emit: (CompletedExec) -> Void
    ) -> String? {
        statistics.records += 1
        do {
            let header = try AuditRecordHeader.parse(payload: payload, type: AuditRecordType(rawValue: type))
            ingest(header, emit)
            return nil
        } catch {
            statistics.malformedRecords += 1
            return error.reason
        }
    }

    /// Counts a line that never reached the parser (e.g. too long to read).
    public mutating func countMalformedLine() {
        statistics.records += 1
        statistics.malformedRecords += 1
    }

    /// Completes every open event: the end of the input.
    /// Events still open are completed in serial order, the order the kernel created them in.
    public mutating func finish(_ emit: (CompletedExec) -> Void) {
        let open = pending.keys.sorted { ($0.node, $0.serial) < ($1.node, $1.serial) }
        for key in open { complete(key, emit) }
        openingOrder.removeAll(keepingCapacity: true)
        openingHead = 0
    }

    /// Completes open events whose grace time has passed by `now` (event time), for live sources
    /// that go quiet.
    public mutating func expire(now: EventTime, _ emit: (CompletedExec) -> Void) {
        clock = now
        completeExpired(emit)
    }

    public var openEvents: Int { pending.count }

    private mutating func ingest(_ header: AuditRecordHeader, _ emit: (CompletedExec) -> Void) {
        let time = EventTime(seconds: header.seconds, milliseconds: header.milliseconds)
        clock = time
        if header.type.isPartOfExec {
            let key = Key(node: nodeIndex(header.node), serial: header.serial)
            if let open = pending[key], open.time != time {
                complete(key, emit)  // same serial, another time: a new event (see above)
            }
            if pending[key] == nil {
                if header.type == .eoe {
                    // The end of an event none of whose records we kept.
                    completeExpired(emit)
                    return
                }
                pending[key] = PendingExec(time: time)
                openingOrder.append(key)
            }
            let done = pending[key]!.ingest(header)
            if done { complete(key, emit) }
        }
        completeExpired(emit)
    }

    private mutating func completeExpired(_ emit: (CompletedExec) -> Void) {
        while openingHead < openingOrder.count {
            let key = openingOrder[openingHead]
            if let exec = pending[key] {
                if pending.count > maximumPending {
                    statistics.forcedCompletions += 1
                } else if abs(clock.millisecondsSinceEpoch - exec.time.millisecondsSinceEpoch) < graceTime {
                    break
                }
                complete(key, emit)
            }
            openingHead += 1
        }
        if openingHead > 1024, openingHead * 2 > openingOrder.count {
            openingOrder.removeFirst(openingHead)
            openingHead = 0
        }
    }

    private mutating func complete(_ key: Key, _ emit: (CompletedExec) -> Void) {
        guard let exec = pending.removeValue(forKey: key) else { return }
        statistics.malformedFields += exec.arguments.malformedFields
        guard exec.hasSyscall, !exec.isOtherSyscall, exec.isExec else {
            if !exec.hasSyscall && !exec.isOtherSyscall { statistics.incompleteEvents += 1 }
            return
        }
        guard exec.success == true else {
            statistics.failedExecs += 1
            return
        }
        statistics.execs += 1
        emit(
            CompletedExec(
                node: nodes.isEmpty || key.node < 0 ? nil : String(decoding: nodes[key.node], as: UTF8.self),
                serial: key.serial,
                exec: exec
            )
        )
    }

    private mutating func nodeIndex(_ node: UnsafeRawBufferPointer) -> Int {
        if node.isEmpty { return -1 }
        for (index, known) in nodes.enumerated() where known.elementsEqual(node) { return index }
        nodes.append(Array(node))
        return nodes.count - 1
    }
}

extension PendingExec {
    /// Folds in one record; true when the record ends the event (EOE).
    fileprivate mutating func ingest(_ header: AuditRecordHeader) -> Bool {
        if isOtherSyscall && header.type != .eoe { return false }
        switch header.type {
        case .syscall: ingestSyscall(body: header.body)
        case .execve: ingestExecve(body: header.body)
        case .cwd: ingestCwd(body: header.body)
        case .path: ingestPath(body: header.body)
        case .eoe:
            sawEndOfEvent = true
            return true
        default: break
        }
        return false
    }
}

/// What the assembler has seen, for the run summary and status.
public struct AuditStatistics: Sendable, Equatable {
    /// Records read, well-formed or not.
    public var records = 0
    /// Records that could not be parsed (skipped; neighbours unaffected).
    public var malformedRecords = 0
    /// Fields inside otherwise readable records that could not be decoded.
    public var malformedFields = 0
    /// Successful program executions completed.
    public var execs = 0
    /// Execs that failed (`success=no`, e.g. PATH search misses): counted, not emitted.
    public var failedExecs = 0
    /// Events that had exec records (EXECVE, PATH…) but never a SYSCALL record.
    public var incompleteEvents = 0
    /// Events completed early because too many were open.
    public var forcedCompletions = 0

    public init() {}
}
