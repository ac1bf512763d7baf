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
/// ``maximumPending`` events are open or they hold more than ``maximumBytes`` (the oldest open
/// event is completed early with the records it has, counted in
/// ``AuditStatistics/forcedCompletions``; records of it arriving later make an incomplete event,
/// counted too). `node=` names are held only while events of them are open.
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
        /// What ``decodeArgumentsAhead()`` decoded.
        private var decodedAhead: (arguments: ArgumentVector, malformedFields: Int)??

        init(node: String?, serial: UInt64, exec: PendingExec) {
            self.node = node
            self.serial = serial
            self.exec = exec
        }

        /// Decodes the argv now (on a thread that has time for it), for ``decodeArguments()``.
        public mutating func decodeArgumentsAhead() {
            decodedAhead = .some(decodeArguments())
        }

        /// The argv from the EXECVE records (nil when there were none), and how many fields could
        /// not be decoded. Decoding is the costly part of an event, so it is done only on request.
        public func decodeArguments() -> (arguments: ArgumentVector, malformedFields: Int)? {
            if let decodedAhead { return decodedAhead }
            guard exec.hasExecve else { return nil }
            var arguments = ExecveArguments()
            for record in exec.execveRecords { record.withBytes { arguments.ingest(body: $0) } }
            let malformed = arguments.malformedFields
            return (arguments.finish(), malformed)
        }
    }

    public var graceTime: Int64
    private let borrowsRecordBytes: Bool
    public var maximumPending: Int
    /// Most bytes the open events (their records and `node=` names) may hold, as
    /// ``heldBytes`` counts them.
    public var maximumBytes: Int
    /// 16 MiB: dozens of executions with the largest argv the kernel passes (hex-encoded).
    public static let defaultMaximumBytes = 16 << 20
    public private(set) var statistics = AuditStatistics()

    /// An open event's key, hashed with a multiply-and-shift mix (seeded by the table) instead of
    /// SipHash: each exec's key is hashed when its event opens, completes, and when its removal
    /// moves neighbouring slots, and SipHash took some 6% of the reading thread's time.
    struct Key: Hashable {
        var node: Int
        var serial: UInt64

        func hash(into hasher: inout Hasher) {
            hasher.combine(node)
            hasher.combine(serial)
        }

        /// What the table's buckets are chosen by (see above).
        func _rawHashValue(seed: Int) -> Int {
            Int(truncatingIfNeeded: Self.mix(serial, UInt64(bitPattern: Int64(node)), seed: seed))
        }

        /// splitmix64's finalizer over the two words: every input bit reaches every output bit.
        @inline(__always)
        static func mix(_ a: UInt64, _ b: UInt64, seed: Int) -> UInt64 {
            var x = a ^ (b &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(bitPattern: Int64(seed))
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
    }

    private var pending: [Key: PendingExec] = [:]
    /// The event the previous record belonged to, while it is open.
    private var lastKey: Key?
    /// Not retained: `pending` holds it while it is open, and it is cleared when it completes.
    /// Each record of it is then folded in without a retain and a release.
    private var lastExec: Unmanaged<PendingExec>?
    /// An event as it was opened: the grace time is judged from this without a table lookup.
    private struct OpenedEvent {
        var key: Key
        var time: EventTime
    }

    /// Events in the order they were opened (may hold events already completed).
    private var openingOrder: [OpenedEvent] = []
    private var openingHead = 0
    private var nodes = NodeNames()
    /// Bytes held by open events, without their node names.
    private var pendingBytes = 0
    /// The time of the latest record read: the stream's clock for the grace time.
    private var clock = EventTime(millisecondsSinceEpoch: 0)

    /// - Parameters:
    ///   - graceMilliseconds: how much later (in event time) another record must be before an
    ///     event without EOE is taken as complete.
    ///   - maximumPending: how many events may be open at once.
    ///   - maximumBytes: how many bytes open events may hold.
    ///   - borrowsRecordBytes: when true, the caller promises that the bytes of every record it
    ///     passes stay valid and unchanged until ``finish(_:)`` returns (a memory-mapped file);
    ///     EXECVE records are then referenced instead of copied.
    public init(
        graceMilliseconds: Int64 = 2000,
        maximumPending: Int = 8192,
        maximumBytes: Int = AuditEventAssembler.defaultMaximumBytes,
        borrowsRecordBytes: Bool = false
    ) {
        self.graceTime = graceMilliseconds
        self.maximumPending = maximumPending
        self.maximumBytes = maximumBytes
        self.borrowsRecordBytes = borrowsRecordBytes
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

    /// Approximate bytes held by the open events: their records (copied ones) and their `node=`
    /// names. At most ``maximumBytes`` after every record.
    public var heldBytes: Int { pendingBytes + nodes.heldBytes }

    /// Distinct `node=` names held (those of open events).
    public var nodeNamesHeld: Int { nodes.count }

    private mutating func ingest(_ header: AuditRecordHeader, _ emit: (CompletedExec) -> Void) {
        let time = header.time
        clock = time
        if header.type.isPartOfExec {
            var key = Key(node: nodeIndex(header.node), serial: header.serial)
            // Records of one event mostly arrive together: the last event is found without hashing.
            if key == lastKey, let last = lastExec, last._withUnsafeGuaranteedRef({ $0.time == time }) {
                if last._withUnsafeGuaranteedRef({ fold(header, into: $0) }) { complete(key, emit) }
                completeExpired(emit)
                return
            }
            var exec = key.node == Self.unknownNode ? nil : pending[key]
            if let open = exec, open.time != time {
                complete(key, emit)  // same serial, another time: a new event (see above)
                exec = nil
            }
            if exec == nil {
                if header.type == .eoe {
                    // The end of an event none of whose records we kept.
                    completeExpired(emit)
                    return
                }
                if !header.node.isEmpty { key.node = nodes.open(header.node) }
                let opened = PendingExec(time: time, borrowsRecordBytes: borrowsRecordBytes)
                pending[key] = opened
                pendingBytes += opened.heldBytes
                openingOrder.append(OpenedEvent(key: key, time: time))
                exec = opened
            }
            lastKey = key
            lastExec = Unmanaged.passUnretained(exec!)
            if fold(header, into: exec!) { complete(key, emit) }
        }
        completeExpired(emit)
    }

    /// Folds a record into its open event, counting the bytes it holds; true when it ends it.
    @inline(__always)
    private mutating func fold(_ header: AuditRecordHeader, into exec: PendingExec) -> Bool {
        let before = exec.heldBytes
        let ended = exec.ingest(header)
        pendingBytes += exec.heldBytes - before
        return ended
    }

    private mutating func completeExpired(_ emit: (CompletedExec) -> Void) {
        while openingHead < openingOrder.count {
            let opened = openingOrder[openingHead]
            // Found once, then completed where it was found: the key is hashed once.
            if pending.count > maximumPending || heldBytes > maximumBytes {
                if let index = pending.index(forKey: opened.key), pending.values[index].time == opened.time {
                    statistics.forcedCompletions += 1
                    complete(at: index, emit)
                }
            } else if abs(clock.millisecondsSinceEpoch - opened.time.millisecondsSinceEpoch) < graceTime {
                break
            } else if let index = pending.index(forKey: opened.key), pending.values[index].time == opened.time {
                complete(at: index, emit)
            }
            openingHead += 1
        }
        if openingHead > 1024, openingHead * 2 > openingOrder.count {
            openingOrder.removeFirst(openingHead)
            openingHead = 0
        }
    }

    private mutating func complete(_ key: Key, _ emit: (CompletedExec) -> Void) {
        guard let index = pending.index(forKey: key) else { return }
        complete(at: index, emit)
    }

    private mutating func complete(at index: [Key: PendingExec].Index, _ emit: (CompletedExec) -> Void) {
        let (key, exec) = pending.remove(at: index)
        if key == lastKey {
            lastKey = nil
            lastExec = nil
        }
        pendingBytes -= exec.heldBytes
        let node = key.node < 0 ? nil : nodes.name(at: key.node)
        if key.node >= 0 { nodes.close(key.node) }
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
                node: node.map { String(decoding: $0, as: UTF8.self) },
                serial: key.serial,
                exec: exec
            )
        )
    }

    /// No `node=` field.
    private static let noNode = -1
    /// A `node=` name no open event has: the record opens a new event.
    private static let unknownNode = -2

    private mutating func nodeIndex(_ node: UnsafeRawBufferPointer) -> Int {
        if node.isEmpty { return Self.noNode }
        return nodes.index(of: node) ?? Self.unknownNode
    }
}

extension PendingExec {
    /// Folds in one record; true when the record ends the event (EOE).
    fileprivate func ingest(_ header: AuditRecordHeader) -> Bool {
        if isOtherSyscall && header.type != .eoe { return false }
        switch header.type {
        case .syscall: ingestSyscall(body: header.body)
        case .execve: ingestExecve(body: header.body)
        case .cwd: ingestCwd(body: header.body)
        case .path: ingestPath(body: header.body)
        case .eoe:
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
    /// Successful program executions completed.
    public var execs = 0
    /// Execs that failed (`success=no`, e.g. PATH search misses): counted, not emitted.
    public var failedExecs = 0
    /// Events that had exec records (EXECVE, PATH…) but never a SYSCALL record.
    public var incompleteEvents = 0
    /// Events completed early because too many were open or they held too many bytes.
    public var forcedCompletions = 0

    public init() {}
}
