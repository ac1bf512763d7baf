import ExecEvents

/// Where a capture source delivers what it reads.
///
/// Every method is called on the source's own capture thread, one call at a time; the bytes passed
/// are valid only during the call. The sink does the synchronous part of the pipeline (parse,
/// reassemble, normalize, evaluate) and hands incidents on.
public protocol CaptureSink: AnyObject {
    /// One audit record as the kernel delivers it over netlink: its type and its payload
    /// (`audit(S.MS:SERIAL): fields…`).
    func auditRecord(type: UInt16, payload: UnsafeRawBufferPointer)

    /// One audit record as auditd writes it to its plugins (the log line format), without the
    /// newline.
    func auditLine(_ line: UnsafeRawBufferPointer)

    /// One execution seen without audit (from /proc), already an event.
    func exec(_ event: ExecEvent)

    /// One execution seen without audit, described first by `probe` (see ``ExecProbe``).
    /// `complete` derives the whole event from it (arguments, ids, users, the parent's facts); a
    /// sink calls it only when it needs that event (some rule may match it), so an exec no rule
    /// can match costs no more than its probe. Both are valid only during the call. By default the
    /// whole event goes to ``exec(_:)``.
    func exec(probe: ExecProbe, complete: (ExecProbe) -> ExecEvent)

    /// The source saw nothing for a while: events waiting for their grace time may complete.
    func idle(now: EventTime)

    /// The programs a rule names (last path components, folded to lower case): a source that can
    /// tell an exec's program before reading it (the eBPF probe) hands the execs of these to the
    /// sink at once and the others in batches. Read after each batch; nil, the default: every
    /// exec at once.
    var promptPrograms: Set<String>? { get }
}

extension CaptureSink {
    public func exec(probe: ExecProbe, complete: (ExecProbe) -> ExecEvent) {
        exec(complete(probe))
    }

    public var promptPrograms: Set<String>? { nil }
}

/// What a source knows of an execution before deriving its whole event: `event` has only what a
/// rule index looks at (`eventType`, `eventTime`, `hostName`, `procName`, `invokedPath`,
/// `exePath`); `argumentArea`, when the source holds it anyway, is the argv as read (each
/// argument NUL-terminated, the last maybe not), for the rules' guards on the command line.
public struct ExecProbe: Sendable {
    public var event: ExecEvent
    public var argumentArea: [UInt8]?

    public init(event: ExecEvent, argumentArea: [UInt8]? = nil) {
        self.event = event
        self.argumentArea = argumentArea
    }
}

/// A source of executions. ``run(into:until:)`` blocks the calling thread (the capture thread)
/// until `stop` is signalled or the source fails, then undoes what it changed on the host (audit
/// rules, audit pid) before returning.
public protocol CaptureSource: AnyObject, Sendable {
    /// The source's name as `--source` spells it (`audit-unicast`, `proc-connector`, …).
    var name: String { get }

    /// What the source counts as it runs (read from other threads).
    var counters: CaptureCounters { get }

    func run(into sink: any CaptureSink, until stop: StopSignal) throws
}
