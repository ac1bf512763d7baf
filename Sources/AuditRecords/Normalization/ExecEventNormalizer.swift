import ExecEvents
import HostProcesses

/// Derives a `LINUX_PROCESS_EXEC` event from a completed exec's records, attribute by attribute as
/// DESIGN.md's table says.
///
/// - `procName`: base name of PATH item 0 `name` (the path given to execve), else of `a0`, else
///   `comm`, else the base name of `exe`.
/// - `swParam`: argv[1…] joined by single spaces (empty when argv has one entry).
/// - `invokedPath`: PATH item 0 `name`, made absolute against `cwd` when relative.
/// - `user`: the ENRICHED `UID` translation, else the user database, else the uid in decimal.
/// - `parentProcName`, `parentExePath`, `parentCommandLine`: what this normalizer saw the parent
///   process execute last; in live capture (with ``RunningProcesses``) checked against the
///   parent's start time, and read from `/proc` for a parent it did not see (see ``ProcessTable``).
///   In replay, from the log alone.
///
/// `args` and `swParam` are decoded from the EXECVE records only when asked for (or when `a0` is
/// needed for `procName`): most events match no rule. The process table keeps each exec's EXECVE
/// records, and decodes a command line only when a child's event asks for its parent's.
public struct ExecEventNormalizer {
    public var hostName: String {
        didSet { blank = ExecEvent(eventTime: blank.eventTime, hostName: hostName) }
    }
    /// An event with the host name alone, copied to begin each probe: one made afresh for every
    /// exec was built field by field in a temporary, copied out whole and the temporary destroyed.
    private var blank: ExecEvent
    private var users: UserNameCache
    private var processes: ProcessTable
    /// The live host's /proc, nil in replay.
    private let live: (any RunningProcesses)?
    /// Whether events get `swParam` with `args`. Replay printing events without rules leaves it
    /// out, and their JSON writes it from `args` (``ExecEvent/writeJSON(to:derivingSwParam:)``):
    /// a long argv is then not copied into a joined text first.
    public var derivesSwParam = true
    /// EXECVE fields that could not be decoded (bad hex, absurd indexes), in the events decoded.
    public private(set) var malformedArgumentFields = 0

    /// The value audit uses for "no login uid".
    static let unsetID: Int64 = 4_294_967_295

    /// `live`: in live capture, what `/proc` says of running processes (see ``ProcessTable``);
    /// nil (replay) never looks at this host's processes.
    public init(
        hostName: String,
        users: UserNameCache = UserNameCache(),
        processes: ProcessTable = ProcessTable(),
        live: (any RunningProcesses)? = nil
    ) {
        self.hostName = hostName
        self.blank = ExecEvent(eventTime: EventTime(millisecondsSinceEpoch: 0), hostName: hostName)
        self.users = users
        self.processes = processes
        self.live = live
    }

    /// Entries the process table forgot to stay within its budgets.
    public var processTableEvictions: Int { processes.evictions }

    /// The event of a completed exec; `args` and `swParam` are dropped unless `includingArguments`.
    public mutating func event(
        from completed: AuditEventAssembler.CompletedExec,
        includingArguments: Bool = true
    ) -> ExecEvent {
        // The whole SYSCALL record is read below: identity and context in one pass, before the
        // probe reads the identity alone (the context fields lie before `exe`, so a second pass
        // would scan the record again from its start).
        _ = completed.exec.context.ppid
        var event = probe(from: completed)
        complete(&event, from: completed, includingArguments: includingArguments)
        return event
    }

    /// The event of a completed exec whose ``probe(from:)`` the caller holds (and gives up).
    public mutating func event(
        from completed: AuditEventAssembler.CompletedExec,
        probe: consuming ExecEvent,
        includingArguments: Bool = true
    ) -> ExecEvent {
        var event = probe
        complete(&event, from: completed, includingArguments: includingArguments)
        return event
    }

    /// Turns a completed exec's ``probe(from:)`` into its whole event, in place: handed from
    /// function to function by value, the event (two dozen references) was copied on the way.
    public mutating func complete(
        _ event: inout ExecEvent,
        from completed: AuditEventAssembler.CompletedExec,
        includingArguments: Bool = true
    ) {
        if includingArguments {
            attachArguments(from: completed, to: &event)
        } else {
            event.args = nil
            event.swParam = nil
        }
        // Fields read from the exec in place (see PendingExec.identity), not copied out.
        let exec = completed.exec
        if event.cwd == nil { event.cwd = Self.text(exec.cwd) }
        event.procId = exec.identity.pid
        let ppid = exec.context.ppid
        event.parentProcId = ppid
        if let ppid, let parent = processes.parent(ofPID: ppid, live: live) {
            event.parentProcName = parent.programName
            event.parentExePath = parent.exePath
            event.parentCommandLine = parent.commandLine
        }
        event.uid = exec.context.uid
        event.euid = exec.context.euid
        if let uid = exec.context.uid {
            event.user = exec.context.uidName ?? users.name(ofID: uid)
        }
        if let auid = exec.context.auid, auid != Self.unsetID, auid != -1 {
            event.auid = auid
            event.loginUser = exec.context.auidName ?? users.name(ofID: auid)
        }
        event.tty = exec.context.tty
        event.auditKey = exec.context.key
    }

    /// Only what a rule index looks at — `eventType`, `eventTime`, `hostName`, `procName`,
    /// `invokedPath`, `exePath` (and `cwd` when `invokedPath` is relative) — so a caller can tell
    /// cheaply whether the full event is worth deriving; if it is, it hands the probe to
    /// ``event(from:probe:includingArguments:)``, which goes on from there. Records the process in
    /// the process table (as ``event(from:includingArguments:)`` does, through this), so the
    /// parent facts of later events stay right: a child's event names this exec's program,
    /// executable and command line (its EXECVE records kept, decoded only if a child asks).
    public mutating func probe(from completed: AuditEventAssembler.CompletedExec) -> ExecEvent {
        var event = blank
        event.eventTime = completed.exec.time
        // Filled in a function of its own: returned from a body with this many branches, the
        // event (some 330 bytes, two dozen references) was copied out and its original destroyed.
        fillProbe(&event, from: completed)
        return event
    }

    /// What ``probe(from:)`` says of an exec, in the event it begins.
    private mutating func fillProbe(_ event: inout ExecEvent, from completed: AuditEventAssembler.CompletedExec) {
        let exec = completed.exec
        event.exePath = exec.identity.exePath
        if let base = exec.identity.invokedPath.flatMap(Self.baseName) {
            event.procName = base
        } else {
            attachArguments(from: completed, to: &event)  // procName needs a0
            event.procName = Self.programName(
                invokedPath: nil,
                args: event.args,
                comm: exec.commBytes,
                exePath: event.exePath
            )
        }
        if let invoked = exec.identity.invokedPath {
            if invoked.utf8.first == UInt8(ascii: "/") {
                event.invokedPath = invoked  // what ExecEvent.invokedPath(_:cwd:) makes of it
            } else {
                event.cwd = Self.text(exec.cwd)
                event.invokedPath = ExecEvent.invokedPath(invoked.utf8, cwd: event.cwd)
            }
        }
        if let pid = exec.identity.pid, let name = event.procName {
            let process: KnownProcess
            if exec.hasExecve {
                process = KnownProcess(
                    programName: name,
                    exePath: event.exePath,
                    deferredCommandLine: ExecveCommandLine(records: exec.execveRecords)
                )
            } else {
                process = KnownProcess(programName: name, exePath: event.exePath)
            }
            processes.record(pid: pid, startTime: live?.startTime(ofPID: pid), consume process)
        }
    }

    private static func text(_ bytes: [UInt8]?) -> String? {
        bytes.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Decodes the argv into `args` and `swParam` (argv[1…] joined by single spaces).
    public mutating func attachArguments(from completed: AuditEventAssembler.CompletedExec, to event: inout ExecEvent) {
        guard event.args == nil, let (args, malformed) = completed.decodeArguments() else { return }
        malformedArgumentFields += malformed
        event.args = args
        if derivesSwParam { event.swParam = args.joinedText(from: 1) }
    }

    /// `procName`: the base name of the path given to execve, else of `a0`, else of `comm`, else
    /// of `exe`. `comm` is an autoclosure: it is decoded only when nothing before it names the
    /// program. The paths are text already (invalid UTF-8 repaired): a base name taken after that
    /// is the one taken before it, as `/` is never part of a repaired sequence.
    static func programName(
        invokedPath: String?,
        args: ArgumentVector?,
        comm: @autoclosure () -> [UInt8]?,
        exePath: String?
    ) -> String? {
        // In that order, without building a list of the candidates for every exec.
        if let base = invokedPath.flatMap(baseName) { return base }
        if let base = args?.first.flatMap(baseName) { return String(decoding: base, as: UTF8.self) }
        if let base = comm().flatMap(baseName) { return String(decoding: base, as: UTF8.self) }
        return exePath.flatMap(baseName)
    }

    /// The last path component (`/usr/bin/nc` → `nc`, `./nc` → `nc`); nil when there is none.
    static func baseName(_ path: [UInt8]) -> ArraySlice<UInt8>? {
        guard let range = baseNameRange(path) else { return nil }
        return path[range]
    }

    /// ``baseName(_:)`` of a path held as text (over its bytes: walking the UTF-8 view's indices
    /// cost more than the rest of the probe's program name).
    static func baseName(_ path: String) -> String? {
        let base = path.utf8.withContiguousStorageIfAvailable { bytes -> String? in
            guard let range = baseNameRange(bytes) else { return nil }
            if range.count == bytes.count { return path }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }
        if let base { return base }
        guard let range = baseNameRange(path.utf8) else { return nil }
        if range == path.utf8.startIndex..<path.utf8.endIndex { return path }
        return String(Substring(path.utf8[range]))
    }

    private static func baseNameRange<Path: BidirectionalCollection<UInt8>>(_ path: Path) -> Range<Path.Index>? {
        var end = path.endIndex
        while end > path.startIndex, path[path.index(before: end)] == UInt8(ascii: "/") {
            end = path.index(before: end)
        }
        guard end > path.startIndex else { return nil }
        var start = end
        while start > path.startIndex, path[path.index(before: start)] != UInt8(ascii: "/") {
            start = path.index(before: start)
        }
        return start..<end
    }
}
