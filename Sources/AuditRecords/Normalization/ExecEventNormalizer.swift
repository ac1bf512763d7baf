import ExecEvents

/// Derives a `LINUX_PROCESS_EXEC` event from a completed exec's records, attribute by attribute as
/// DESIGN.md's table says.
///
/// - `procName`: base name of PATH item 0 `name` (the path given to execve), else of `a0`, else
///   `comm`, else the base name of `exe`.
/// - `swParam`: argv[1…] joined by single spaces (empty when argv has one entry).
/// - `user`: the ENRICHED `UID` translation, else the user database, else the uid in decimal.
/// - `parentProcName`: what this normalizer saw the parent pid execute last.
public struct ExecEventNormalizer {
    public var hostName: String
    private var users: any UserNameLookup
    private var processes = ProcessTable()

    /// The value audit uses for "no login uid".
    static let unsetID: Int64 = 4_294_967_295

    public init(hostName: String, users: any UserNameLookup = SystemUserDatabase()) {
        self.hostName = hostName
        self.users = users
    }

    public mutating func event(from completed: AuditEventAssembler.CompletedExec) -> ExecEvent {
        var exec = completed.exec
        let args: [[UInt8]]? = exec.hasExecve ? exec.arguments.finish() : nil

        var event = ExecEvent(eventTime: exec.time, hostName: hostName)
        event.procName = Self.programName(invokedPath: exec.invokedPath, args: args, comm: exec.comm, exe: exec.exe)
        if let args {
            event.args = args
            event.swParam = ExecEvent.joinedText(args.dropFirst())
        }
        event.procId = exec.pid
        event.parentProcId = exec.ppid
        if let ppid = exec.ppid { event.parentProcName = processes.programName(ofPID: ppid) }
        event.exePath = exec.exe.map { String(decoding: $0, as: UTF8.self) }
        event.cwd = exec.cwd.map { String(decoding: $0, as: UTF8.self) }
        event.uid = exec.uid
        event.euid = exec.euid
        if let uid = exec.uid {
            event.user = exec.uidName ?? users.name(forUID: uid) ?? String(uid)
        }
        if let auid = exec.auid, auid != Self.unsetID, auid != -1 {
            event.auid = auid
            event.loginUser = exec.auidName ?? users.name(forUID: auid) ?? String(auid)
        }
        event.tty = exec.tty
        event.auditKey = exec.key
        if let pid = exec.pid, let name = event.procName { processes.record(pid: pid, programName: name) }
        return event
    }

    static func programName(invokedPath: [UInt8]?, args: [[UInt8]]?, comm: [UInt8]?, exe: [UInt8]?) -> String? {
        for candidate in [invokedPath, args?.first, comm, exe] {
            guard let candidate, let base = baseName(candidate) else { continue }
            return String(decoding: base, as: UTF8.self)
        }
        return nil
    }

    /// The last path component (`/usr/bin/nc` → `nc`, `./nc` → `nc`); nil when there is none.
    static func baseName(_ path: [UInt8]) -> ArraySlice<UInt8>? {
        var end = path.endIndex
        while end > path.startIndex, path[end - 1] == UInt8(ascii: "/") { end -= 1 }
        guard end > path.startIndex else { return nil }
        var start = end
        while start > path.startIndex, path[start - 1] != UInt8(ascii: "/") { start -= 1 }
        return path[start..<end]
    }
}
