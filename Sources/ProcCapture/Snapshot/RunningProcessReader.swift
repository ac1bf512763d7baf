import ExecEvents
import HostProcesses

/// What `/proc` says of a running process the agent may not have seen start: when it started, its
/// program name (DESIGN.md's /proc column), executable and command line. Every source uses it in
/// live capture for parents that predate the agent.
///
/// One reader belongs to one thread (the capture thread): it reuses its buffer.
public final class RunningProcessReader: RunningProcesses {
    private let files = ProcFiles()
    let confirmedStartTimes: ConfirmedStartTimes

    public init() {
        confirmedStartTimes = ConfirmedStartTimes()
    }

    /// Clock ticks after boot when process `pid` started (`/proc/PID/stat` field 22); nil when
    /// there is no such process. Read once per process, then vouched for by its pidfd (see
    /// ``ConfirmedStartTimes``).
    public func startTime(ofPID pid: Int64) -> UInt64? {
        guard let pid = Int32(exactly: pid), pid > 0 else { return nil }
        return confirmedStartTimes.startTime(ofPID: pid) { readStartTime(of: pid) }
    }

    private func readStartTime(of pid: Int32) -> UInt64? {
        try? files.read("stat", of: pid) { ProcStat.parse($0)?.startTime }
    }

    /// Process `pid` as `/proc` shows it: its program name (`comm`; when the kernel cut it, the
    /// name it was cut from, see ``ProgramName``), `exe`, and `cmdline` joined by single spaces,
    /// with its start time; nil when there is no such process. `stat` is read first and again
    /// last: a process that exited (and whose pid was taken) meanwhile is not answered for.
    public func process(ofPID pid: Int64) -> (process: KnownProcess, startTime: UInt64)? {
        guard let pid = Int32(exactly: pid), pid > 0 else { return nil }
        var comm: [UInt8] = []
        let parsed = try? files.read("stat", of: pid) { bytes -> ProcStat? in
            guard let stat = ProcStat.parse(bytes) else { return nil }
            comm = Array(bytes[stat.commRange])
            return stat
        }
        guard let stat = parsed else { return nil }
        let arguments = (try? files.read("cmdline", of: pid, ArgumentVector.init(nulTerminated:))) ?? []
        let exe = try? files.readLink("exe", of: pid) { ProcessSnapshotReader.withoutDeletedSuffix(Array($0)) }
        guard readStartTime(of: pid) == stat.startTime else { return nil }
        let name = String(decoding: ProgramName.resolve(comm: comm, arguments: arguments, exe: exe), as: UTF8.self)
        let process = KnownProcess(
            programName: name,
            exePath: exe.map { String(decoding: $0, as: UTF8.self) },
            commandLine: arguments.isEmpty ? nil : KnownProcess.commandLine(arguments)
        )
        return (process, stat.startTime)
    }
}
