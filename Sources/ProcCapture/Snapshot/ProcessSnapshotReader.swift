import ExecEvents
import HostProcesses

/// Reads what /proc knows of a process into an ``ExecEvent``, as DESIGN.md's "/proc" column says.
///
/// One reader belongs to one thread (a source's capture thread): it reuses its buffers, caches
/// user names, and keeps the processes it has read in a ``ProcessTable`` for their children's
/// parent facts.
public struct ProcessSnapshotReader {
    /// What every event gets, and how names are found.
    public struct Configuration: Sendable {
        /// `hostName` of every event.
        public var hostName: String
        /// The name of a uid, nil when unknown (such a uid is then named by its number).
        public var userName: @Sendable (UInt32) -> String?
        /// At most this many uid names are cached.
        public var userCacheCapacity: Int
        /// At most this many processes are kept for children's parent facts.
        public var processTableCapacity: Int

        /// `hostName` nil means this host's name (`gethostname`); `userName` defaults to the
        /// host's user database (`getpwuid_r`).
        public init(
            hostName: String? = nil,
            userName: @escaping @Sendable (UInt32) -> String? = Configuration.userDatabase,
            userCacheCapacity: Int = 1024,
            processTableCapacity: Int = ProcessTable.defaultCapacity
        ) {
            self.hostName = hostName ?? LocalHost.name
            self.userName = userName
            self.userCacheCapacity = userCacheCapacity
            self.processTableCapacity = processTableCapacity
        }

        /// The host's user database, through `getpwuid_r`.
        public static let userDatabase: @Sendable (UInt32) -> String? = UserNameCache.hostDatabase
    }

    /// The login uid of a process that has none.
    static let unsetLoginUID: UInt64 = 4_294_967_295

    private let hostName: String
    private var users: UserNameCache
    private var processes: ProcessTable
    private let files = ProcFiles()
    private let running = RunningProcessReader()

    public init(configuration: Configuration = Configuration()) {
        hostName = configuration.hostName
        users = UserNameCache(capacity: configuration.userCacheCapacity, lookup: configuration.userName)
        processes = ProcessTable(capacity: configuration.processTableCapacity)
    }

    /// Entries the process table forgot to stay within its bounds.
    public var processTableEvictions: Int { processes.evictions }

    /// Reads process `pid` (a thread group id) at once. `time` is when it executed, if known;
    /// otherwise the event is stamped now.
    ///
    /// The program (`cmdline`) and `stat` are essential: without them the process is `gone`. What
    /// is read after them (`exe`, `cwd`, status, parent) is left nil if the process exits meanwhile.
    public mutating func snapshot(of pid: Int32, time: EventTime? = nil) -> ProcessSnapshotOutcome {
        let eventTime = time ?? EventTime.now
        guard let arguments = try? files.read("cmdline", of: pid, ArgumentVector.init(nulTerminated:)) else {
            return .gone
        }
        var comm: [UInt8] = []
        let parsedStat = try? files.read("stat", of: pid) { bytes -> ProcStat? in
            guard let stat = ProcStat.parse(bytes) else { return nil }
            comm = Array(bytes[stat.commRange])
            return stat
        }
        guard let stat = parsedStat else { return .gone }
        guard !arguments.isEmpty else {
            if stat.isKernelThread { return .kernelThread }
            return stat.state == UInt8(ascii: "Z") || stat.state == UInt8(ascii: "X") ? .gone : .notYetReadable
        }

        let ids = try? files.read("status", of: pid, ProcStatusIDs.parse)
        let exe = try? files.readLink("exe", of: pid) { Self.withoutDeletedSuffix(Array($0)) }
        let cwd = try? files.readLink("cwd", of: pid) { String(decoding: $0, as: UTF8.self) }
        let loginUID = try? files.read("loginuid", of: pid) { decimal(Self.trimmed($0)) }

        let procName = String(decoding: ProgramName.resolve(comm: comm, arguments: arguments, exe: exe), as: UTF8.self)
        let exePath = exe.map { String(decoding: $0, as: UTF8.self) }
        processes.record(
            pid: Int64(pid),
            startTime: stat.startTime,
            KnownProcess(programName: procName, exePath: exePath, commandLine: KnownProcess.commandLine(arguments))
        )

        var event = ExecEvent(eventTime: eventTime, hostName: hostName)
        event.procName = procName
        event.args = arguments
        event.swParam = arguments.joinedText(from: 1)
        event.procId = Int64(pid)
        event.parentProcId = Int64(stat.parentPID)
        attachParent(stat.parentPID, to: &event)
        event.exePath = exePath
        event.cwd = cwd
        event.invokedPath = Self.invokedPath(arguments: arguments, cwd: cwd)
        if let ids {
            event.uid = Int64(ids.realUID)
            event.euid = Int64(ids.effectiveUID)
            event.user = users.name(of: ids.realUID)
        }
        if let loginUID, loginUID != Self.unsetLoginUID, loginUID <= UInt64(UInt32.max) {
            event.auid = Int64(loginUID)
            event.loginUser = users.name(of: UInt32(loginUID))
        }
        event.tty = TerminalName.name(terminalNumber: stat.terminalNumber)
        return .taken(ProcessSnapshot(event: event, startTime: stat.startTime))
    }

    /// The parent's facts: from the process table when this reader read the parent (its start
    /// time checked), else from `/proc/PPID`; failing both, `parentProcName` is its `comm`.
    private mutating func attachParent(_ parentPID: Int32, to event: inout ExecEvent) {
        guard parentPID > 0 else { return }
        let parsed = try? files.read("stat", of: parentPID) { bytes -> (UInt64, String)? in
            guard let stat = ProcStat.parse(bytes) else { return nil }
            return (stat.startTime, String(decoding: bytes[stat.commRange], as: UTF8.self))
        }
        guard let (startTime, comm) = parsed else { return }
        guard let parent = processes.parent(ofPID: Int64(parentPID), startTime: startTime, live: running) else {
            event.parentProcName = comm
            return
        }
        event.parentProcName = parent.programName
        event.parentExePath = parent.exePath
        event.parentCommandLine = parent.commandLine
    }

    /// What /proc can tell of the path given to execve: argv[0] when it is a path (has a `/`),
    /// made absolute against `cwd`; nil when it is a bare name found through `PATH` (or renamed
    /// by the program, as `-bash` is).
    static func invokedPath(arguments: ArgumentVector, cwd: String?) -> String? {
        guard let first = arguments.first, first.contains(UInt8(ascii: "/")) else { return nil }
        return ExecEvent.invokedPath(first, cwd: cwd)
    }

    /// The link target without the ` (deleted)` the kernel appends once the file is unlinked.
    static func withoutDeletedSuffix(_ target: [UInt8]) -> [UInt8] {
        let suffix = Array(" (deleted)".utf8)
        guard target.count > suffix.count, target.suffix(suffix.count).elementsEqual(suffix) else { return target }
        return Array(target.dropLast(suffix.count))
    }

    /// The bytes without a final newline.
    static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard bytes.last == UInt8(ascii: "\n") else { return bytes }
        return UnsafeRawBufferPointer(rebasing: bytes.dropLast())
    }
}
