/// What `/proc` says of a running process the agent may not have seen start: when it started, and
/// its program name (DESIGN.md's /proc column). Audit sources use it for parents they did not see.
///
/// One reader belongs to one thread (the capture thread): it reuses its buffer.
public final class RunningProcessReader {
    private let files = ProcFiles()

    public init() {}

    /// Clock ticks after boot when process `pid` started (`/proc/PID/stat` field 22); nil when
    /// there is no such process.
    public func startTime(ofPID pid: Int64) -> UInt64? {
        guard let pid = Int32(exactly: pid), pid > 0 else { return nil }
        return try? files.read("stat", of: pid) { ProcStat.parse($0)?.startTime }
    }

    /// The program name of process `pid` (`comm`; when the kernel cut it, the name it was cut from,
    /// see ``ProgramName``) and its start time; nil when there is no such process.
    public func program(ofPID pid: Int64) -> (name: String, startTime: UInt64)? {
        guard let pid = Int32(exactly: pid), pid > 0 else { return nil }
        var comm: [UInt8] = []
        let parsed = try? files.read("stat", of: pid) { bytes -> ProcStat? in
            guard let stat = ProcStat.parse(bytes) else { return nil }
            comm = Array(bytes[stat.commRange])
            return stat
        }
        guard let stat = parsed else { return nil }
        var arguments: [[UInt8]] = []
        var exe: [UInt8]?
        if comm.count >= ProgramName.commLimit {
            arguments = (try? files.read("cmdline", of: pid, ProcessArguments.split)) ?? []
            exe = try? files.readLink("exe", of: pid) { ProcessSnapshotReader.withoutDeletedSuffix(Array($0)) }
        }
        let name = ProgramName.resolve(comm: comm, arguments: arguments, exe: exe)
        return (String(decoding: name, as: UTF8.self), stat.startTime)
    }
}
