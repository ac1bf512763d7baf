/// Reads an audit log (audit.log lines or the auditd plugin string format) into completed execs,
/// handed on in batches in the order they completed, with the malformed lines read between them.
///
/// This is the reading side of replay: line reading, header parsing and event assembly. What
/// derives events from the execs gets them in ``CompletedExecBatch``es, on the same thread or on
/// another one (a batch is `Sendable`).
public struct AuditLogExecReader {
    private let lines: LineReader
    private var assembler: AuditEventAssembler
    /// Most items (execs and malformed lines) in one batch.
    public var batchSize: Int
    /// Most input bytes one batch spans, so that the receiver's progress (which lets pages of a
    /// mapped file go, see ``LineReader/releasableOffset``) moves on also where execs are rare.
    public var batchInputBytes = 256 << 10
    /// The most work on each exec that the reading side takes over from the side deriving events
    /// while that one is the slower (see ``read(_:)``).
    public var workAhead = WorkAhead.none
    /// The most work ahead when it is decided after the reading began (replay's rules load
    /// meanwhile): asked whenever the receiver is behind, it then stands in for ``workAhead``.
    public var mostWorkAhead: (() -> WorkAhead)?

    /// Work on a completed exec that may be done before it is handed on, in steps: each includes
    /// the ones before it. What is read ahead is kept in the exec, so nothing is done twice and
    /// nothing changes but where the time goes.
    public enum WorkAhead: Int, Comparable, Sendable {
        case none
        /// The SYSCALL and PATH fields that name the program: what every exec's index probe reads.
        case identity
        /// The rest of the SYSCALL record and the CWD record: what every derived event reads.
        case context
        /// The argv (``AuditEventAssembler/CompletedExec/decodeArgumentsAhead()``).
        case arguments

        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    /// How the receiver of the batches keeps up, as it takes one.
    public enum ReceiverPace: Sendable {
        /// It was waiting for the batch: the reading side does less ahead.
        case waiting
        /// Busy, with some batches queued: as it is.
        case busy
        /// Many batches queued: the reading side does more ahead.
        case behind
    }

    /// - Parameters:
    ///   - lines: the input; its lines outlive the callback when it is a mapped file, and the
    ///     execs then refer to them instead of copying (the last batch keeps the reader alive).
    ///   - graceMilliseconds: see ``AuditEventAssembler/init(graceMilliseconds:maximumPending:maximumBytes:borrowsRecordBytes:)``.
    ///   - batchSize: most items in one batch.
    public init(lines: LineReader, graceMilliseconds: Int64, batchSize: Int = 64) {
        self.lines = lines
        self.batchSize = batchSize
        assembler = AuditEventAssembler(
            graceMilliseconds: graceMilliseconds,
            borrowsRecordBytes: lines.linesStayValid
        )
    }

    /// Reads the whole input and hands on its batches; the last one has ``CompletedExecBatch/end``
    /// set (the statistics, or the error that stopped the reading: the execs completed before it
    /// are still handed on). `deliver` says how the receiver keeps up: while it is behind, each
    /// batch's execs get a step more of work done ahead (up to ``workAhead``), and a step less
    /// each time it waits.
    public mutating func read(_ deliver: (consuming CompletedExecBatch) -> ReceiverPace) {
        let lines = self.lines
        // How far the reading got, asked for on every line: through a reference that is not
        // retained (`lines` holds it), as a strong capture was retained and released each time.
        let reading = Unmanaged.passUnretained(lines)
        // A struct used from closure literals only: variables that a local function used as a
        // closure captures are boxed, and every access to them is checked at run time.
        let fixed = workAhead
        var batches = BatchBuilder(
            size: batchSize,
            inputBytes: batchInputBytes,
            mostWorkAhead: mostWorkAhead ?? { fixed }
        )
        var failure: LineReader.ReadError?
        do {
            try lines.forEachLine { line, number in
                if let line {
                    if !line.isEmpty,
                        let reason = assembler.ingest(
                            line: line,
                            { completed in
                                // One line can complete many events.
                                if batches.add(completed) {
                                    batches.adapt(to: deliver(batches.take(at: reading)))
                                }
                            }
                        )
                    {
                        batches.add(malformedLine: number, reason: reason)
                    }
                } else {
                    assembler.countMalformedLine()
                    batches.add(malformedLine: number, reason: nil)
                }
                if batches.isDue(at: reading) { batches.adapt(to: deliver(batches.take(at: reading))) }
            }
        } catch {
            failure = error as? LineReader.ReadError
        }
        if failure == nil {
            assembler.finish { completed in
                if batches.add(completed) { batches.adapt(to: deliver(batches.take(at: reading))) }
            }
        }
        var last = batches.take(at: reading)
        last.end = CompletedExecBatch.End(lines: lines, statistics: assembler.statistics, failure: failure)
        _ = deliver(last)
    }

    /// The batch being filled, and when it is to go.
    private struct BatchBuilder {
        let size: Int
        let inputBytes: Int
        let mostWorkAhead: () -> WorkAhead
        private var workAhead = WorkAhead.none
        private var batch = CompletedExecBatch()
        private var start = 0

        init(size: Int, inputBytes: Int, mostWorkAhead: @escaping () -> WorkAhead) {
            self.size = size
            self.inputBytes = inputBytes
            self.mostWorkAhead = mostWorkAhead
            batch.items.reserveCapacity(size)
            batch.prefetchTargets.reserveCapacity(size * PrefetchTargets.perItem)
        }

        mutating func adapt(to pace: ReceiverPace) {
            switch pace {
            case .waiting: workAhead = WorkAhead(rawValue: workAhead.rawValue - 1) ?? .none
            case .busy: break
            case .behind:
                let most = mostWorkAhead()
                workAhead = min(WorkAhead(rawValue: workAhead.rawValue + 1) ?? most, most)
            }
        }

        /// Adds an exec; true when the batch is full.
        mutating func add(_ completed: AuditEventAssembler.CompletedExec) -> Bool {
            var completed = completed
            if workAhead >= .identity {
                let exec = completed.exec
                _ = exec.identity
                if workAhead >= .context {
                    _ = exec.context
                    _ = exec.cwd
                    if workAhead >= .arguments { completed.decodeArgumentsAhead() }
                }
            }
            batch.items.append(.exec(completed))
            completed.exec.appendPrefetchTargets(to: &batch.prefetchTargets)
            return batch.items.count >= size
        }

        mutating func add(malformedLine number: Int, reason: String?) {
            batch.items.append(.malformedLine(number: number, reason: reason))
            batch.prefetchTargets.append(contentsOf: repeatElement(nil, count: PrefetchTargets.perItem))
        }

        /// Whether the batch is to go now: full, or spanning enough input.
        func isDue(at lines: Unmanaged<LineReader>) -> Bool {
            batch.items.count >= size || lines._withUnsafeGuaranteedRef { $0.position } - start >= inputBytes
        }

        /// The batch, to hand on; a new one is begun.
        mutating func take(at lines: Unmanaged<LineReader>) -> CompletedExecBatch {
            let position = lines._withUnsafeGuaranteedRef { $0.position }
            var full = CompletedExecBatch()
            full.items.reserveCapacity(size)
            full.prefetchTargets.reserveCapacity(size * PrefetchTargets.perItem)
            swap(&full, &batch)
            full.inputOffset = position
            start = position
            return full
        }
    }
}

/// Completed execs of an audit log, in the order they completed, with the malformed lines read
/// between them (see ``AuditLogExecReader``).
///
/// `@unchecked Sendable`: a batch is the only owner of what it holds. The assembler forgets an
/// exec as it completes it, so nothing on the reading side refers to it any more; the record bytes
/// an exec borrows lie in a read-only mapping nobody writes, owned by the reader that travels in
/// the last batch; the reading side touches none of them after handing the batch on.
public struct CompletedExecBatch: @unchecked Sendable {
    public enum Item {
        case exec(AuditEventAssembler.CompletedExec)
        /// A line that is not an audit record: its 1-based number and why (nil: too long to
        /// read, longer than ``LineReader/maximumLineLength``).
        case malformedLine(number: Int, reason: String?)
    }

    /// The end of the input.
    public struct End {
        /// The input. A mapped file's execs refer to its bytes: keep it until they are done with.
        public var lines: LineReader
        public var statistics: AuditStatistics
        /// Why reading stopped before the end of the input, if it did.
        public var failure: LineReader.ReadError?
    }

    public internal(set) var items: [Item] = []
    /// ``PrefetchTargets/perItem`` addresses per item (nil where an item has none), taken by
    /// the reading thread: the main thread prefetches from them without touching the execs.
    var prefetchTargets: [UnsafeRawPointer?] = []
    /// Bytes of the input read when the batch was handed on: its execs need no line after it.
    public internal(set) var inputOffset = 0
    /// Set on the last batch only.
    public internal(set) var end: End?

    public init() {}

    /// Starts fetching into this CPU's cache what deriving item `index`'s event reads first,
    /// when it is an exec; nothing for an index out of range.
    public func prefetchForDeriving(at index: Int) {
        let first = index &* PrefetchTargets.perItem
        guard index >= 0, first &+ PrefetchTargets.perItem <= prefetchTargets.count else { return }
        prefetchTargets.withUnsafeBufferPointer {
            PrefetchTargets.prefetch($0[first..<first &+ PrefetchTargets.perItem])
        }
    }
}
