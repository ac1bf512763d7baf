import Capture
import ExecEvents
import HostProcesses
import ProcCapture

#if canImport(Glibc)
import Glibc
#endif

/// Turns the probe's records into ``ExecEvent``s, on the capture thread: keeps the argument
/// chunks of an exec until its EXEC record (which the probe writes last) arrives, then builds the
/// event the way the audit sources do (DESIGN.md's table): `procName` from the path given to
/// execve, `invokedPath` from `bprm->filename` (absolute against `cwd`), `args`/`swParam` from argv
/// byte for byte, `user`/`loginUser` from the user database, and the parent's facts
/// (`parentProcName`, `parentExePath`, `parentCommandLine`) from its last exec this source saw
/// (keyed by pid and start time, which the probe reads), else from `/proc/PPID` checked against
/// that start time, else `parentProcName` is the parent's `comm`.
struct ExecRecordAssembler {
    /// Argument bytes received for execs whose EXEC record has not come yet, by cookie.
    private var pending: [UInt64: [UInt8]] = [:]
    private var users: UserNameCache
    private var processes: ProcessTable
    /// The live host's /proc, for parents that predate the agent.
    private let live: (any RunningProcesses)?
    private let hostName: String
    private let counters: CaptureCounters
    /// Chunks whose EXEC record never came (it had no room in the ring) are dropped beyond this.
    private static let pendingLimit = 256

    init(
        hostName: String,
        userName: @escaping @Sendable (UInt32) -> String?,
        counters: CaptureCounters,
        live: (any RunningProcesses)? = nil,
        processes: ProcessTable = ProcessTable()
    ) {
        self.hostName = hostName
        self.processes = processes
        users = UserNameCache(capacity: 1024, lookup: userName)
        self.counters = counters
        self.live = live
    }

    /// Takes one record from the ring; returns the whole event when it completes one.
    mutating func take(_ bytes: UnsafeRawBufferPointer) -> ExecEvent? {
        var event: ExecEvent?
        take(bytes) { probe, complete in event = complete(probe) }
        return event
    }

    /// Takes one record from the ring. When it completes an exec, hands `deliver` the exec's
    /// index probe (``CaptureSink/exec(probe:complete:)``: `eventType`, `eventTime`, `hostName`,
    /// `procName`, `invokedPath`, `exePath`, and the argument area as received) and what derives
    /// the whole event from it; the process is in the table either way (its children name it).
    /// Both are valid only during the call.
    mutating func take(
        _ bytes: UnsafeRawBufferPointer,
        deliver: (_ probe: ExecProbe, _ complete: (ExecProbe) -> ExecEvent) -> Void
    ) {
        switch ProbeRecords.parse(bytes) {
        case nil:
            counters.malformed.count()
        case .arguments(let chunk):
            if pending[chunk.cookie] == nil, pending.count >= Self.pendingLimit {
                pending.removeAll(keepingCapacity: true)  // orphans of EXEC records the ring lost
            }
            guard chunk.offset == pending[chunk.cookie]?.count ?? 0 else {
                counters.malformed.count()
                return
            }
            // Appended in place: a copy taken out and stored back would copy the whole area
            // again for every chunk (16 chunks of a 256 KiB exec: 2 MiB of copying, not 256 KiB).
            pending[chunk.cookie, default: []].append(contentsOf: chunk.bytes)
        case .exec(let exec):
            let area = pending.removeValue(forKey: exec.cookie) ?? []
            let probe = ExecProbe(event: indexProbe(exec, argumentArea: area), argumentArea: area)
            deliver(probe) { probe in completed(probe.event, exec, argumentArea: area) }
        }
    }

    /// What a rule index looks at, and the process recorded in the table: no argv split, no user
    /// name, no parent lookup (most execs match no rule and need none of them).
    private mutating func indexProbe(_ exec: ProbeRecords.Exec, argumentArea: [UInt8]) -> ExecEvent {
        var event = ExecEvent(eventTime: EventTime.now, hostName: hostName)
        if argumentArea.count < exec.argumentBytes, exec.flags.contains(.argumentsTruncated) {
            counters.argumentsTruncated.count()
        }
        event.procName = Self.programName(exec, argumentArea: argumentArea)
        if !exec.exe.isEmpty {
            event.exePath = ProbeRecords.path(fromLeafFirst: exec.exe)
        }
        if !Self.isDescriptorOnly(exec) {
            if exec.filename.first != UInt8(ascii: "/") { event.cwd = ProbeRecords.path(fromLeafFirst: exec.cwd) }
            event.invokedPath = ExecEvent.invokedPath(exec.filename, cwd: event.cwd)
        }
        if let name = event.procName {
            processes.record(
                pid: Int64(exec.pid),
                startTime: Self.clockTicks(exec.startTime),
                KnownProcess(
                    programName: name,
                    exePath: event.exePath,
                    deferredCommandLine: ArgumentAreaCommandLine(area: argumentArea)
                )
            )
        }
        if processes.evictions != counters.processesEvicted.current {
            counters.processesEvicted.set(processes.evictions)
        }
        return event
    }

    /// The whole event from its index probe: arguments, ids, working directory, users, terminal
    /// and the parent's facts.
    private mutating func completed(_ probe: ExecEvent, _ exec: ProbeRecords.Exec, argumentArea: [UInt8]) -> ExecEvent {
        var event = probe
        let arguments = argumentArea.withUnsafeBytes { ArgumentVector(nulTerminated: $0) }
        if argumentArea.count < exec.argumentBytes {
            // Cut at the probe's limit, or a chunk was lost (counted in the kernel as lost).
            event.extra["argsTruncated"] = .integer(Int64(exec.argumentBytes))
        }
        event.args = arguments
        event.swParam = arguments.joinedText(from: 1)
        event.procId = Int64(exec.pid)
        event.parentProcId = Int64(exec.parentPID)
        if event.cwd == nil { event.cwd = ProbeRecords.path(fromLeafFirst: exec.cwd) }
        let parent = processes.parent(
            ofPID: Int64(exec.parentPID),
            startTime: Self.clockTicks(exec.parentStartTime),
            live: live
        )
        event.parentProcName = parent?.programName ?? String(decoding: exec.parentComm, as: UTF8.self)
        event.parentExePath = parent?.exePath
        event.parentCommandLine = parent?.commandLine
        event.uid = Int64(exec.uid)
        event.euid = Int64(exec.euid)
        event.user = users.name(of: exec.uid)
        if exec.auid != ProbeRecords.unset {
            event.auid = Int64(exec.auid)
            event.loginUser = users.name(of: exec.auid)
        }
        if !exec.tty.isEmpty { event.tty = String(decoding: exec.tty, as: UTF8.self) }
        return event
    }

    /// The base name of the path given to execve, as audit's PATH record names it. An exec of a
    /// descriptor itself (fexecve, `execveat(fd, "", AT_EMPTY_PATH)`) gave no path: audit then
    /// names argv[0], and so does this (not the kernel's `/dev/fd/N`).
    static func programName(_ exec: ProbeRecords.Exec, argumentArea: [UInt8]) -> String? {
        if !isDescriptorOnly(exec), let name = baseName(exec.filename) { return name }
        let argumentZero = argumentArea.withUnsafeBytes { area in
            area.isEmpty ? nil : baseName(UnsafeRawBufferPointer(rebasing: area.prefix { $0 != 0 }))
        }
        return argumentZero ?? baseName(exec.comm)
    }

    /// Whether the exec gave no path, only a descriptor (the kernel's filename is `/dev/fd/N`).
    static func isDescriptorOnly(_ exec: ProbeRecords.Exec) -> Bool {
        guard exec.flags.contains(.byDescriptor) else { return false }  // the flag first: no copy per exec
        let filename = exec.filename
        return filename.starts(with: "/dev/fd/".utf8)
            && filename.dropFirst(8).allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// A start time the probe read (`start_boottime`, nanoseconds after boot) in `/proc`'s unit,
    /// clock ticks (`/proc/PID/stat` field 22 is `nsec_to_clock_t(start_boottime)`), so the table's
    /// entries and `/proc`'s answers compare.
    static func clockTicks(_ nanoseconds: UInt64) -> UInt64 { nanoseconds / nanosecondsPerTick }

    private static let nanosecondsPerTick = UInt64(1_000_000_000 / max(1, sysconf(Int32(_SC_CLK_TCK))))

    /// The last path component as text (`/usr/bin/nc` → `nc`); nil when there is none.
    static func baseName(_ path: UnsafeRawBufferPointer) -> String? {
        let base = ProgramName.baseName(path)
        return base.isEmpty ? nil : String(decoding: base, as: UTF8.self)
    }
}
