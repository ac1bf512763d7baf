import ExecEvents
import HostProcesses
import Testing

@testable import AuditRecords

/// The host's processes as a test sets them: pid → (program name, start time).
private final class FakeProcesses: RunningProcesses {
    var processes: [Int64: (name: String, startTime: UInt64)] = [:]
    private(set) var programReads = 0

    func startTime(ofPID pid: Int64) -> UInt64? { processes[pid]?.startTime }

    func process(ofPID pid: Int64) -> (process: KnownProcess, startTime: UInt64)? {
        programReads += 1
        guard let (name, startTime) = processes[pid] else { return nil }
        return (
            KnownProcess(programName: name, exePath: "/proc-exe/\(name)", commandLine: "\(name) --from-proc"), startTime
        )
    }
}

/// One successful exec of `name` by `pid`, child of `ppid`, as audit logs it.
private func exec(serial: Int, pid: Int64, ppid: Int64, name: String, argument: String = "x") -> String {
    """
    type=SYSCALL msg=audit(1700000000.\(100 + serial):\(serial)): arch=c000003e syscall=59 success=yes exit=0 ppid=\(ppid) pid=\(pid) uid=0 comm="\(name)" exe="/usr/bin/\(name)"
    type=EXECVE msg=audit(1700000000.\(100 + serial):\(serial)): argc=2 a0="\(name)" a1="\(argument)"
    type=CWD msg=audit(1700000000.\(100 + serial):\(serial)): cwd="/home/u"
    type=PATH msg=audit(1700000000.\(100 + serial):\(serial)): item=0 name="./\(name)" inode=1 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL
    type=EOE msg=audit(1700000000.\(100 + serial):\(serial)):

    """
}

/// Events of `text` through a normalizer with `live` processes; `between` runs after each event.
private func events(
    _ execs: [String],
    live: FakeProcesses?,
    between: (Int) -> Void = { _ in }
) -> [ExecEvent] {
    var assembler = AuditEventAssembler()
    var normalizer = ExecEventNormalizer(hostName: "h", users: UserNameCache(names: [:]), live: live)
    var result: [ExecEvent] = []
    for (index, text) in execs.enumerated() {
        for line in text.split(separator: "\n") {
            _ = Array(line.utf8).withUnsafeBytes { raw in
                assembler.ingest(line: raw) { result.append(normalizer.event(from: $0)) }
            }
        }
        between(index)
    }
    assembler.finish { result.append(normalizer.event(from: $0)) }
    return result
}

@Suite("The process table: parents by pid and start time")
struct ProcessTableTests {
    @Test func aReusedPidDoesNotLendItsOldName() {
        let live = FakeProcesses()
        live.processes[200] = ("bash", 1000)
        let got = events(
            [exec(serial: 1, pid: 200, ppid: 1, name: "bash"), exec(serial: 2, pid: 201, ppid: 200, name: "nc")],
            live: live
        ) { index in
            // bash exits; another program gets its pid and starts nc.
            if index == 0 { live.processes[200] = ("sshd", 2000) }
        }
        #expect(got.map(\.parentProcName) == [nil, "sshd"])
        #expect(got.map(\.parentExePath) == [nil, "/proc-exe/sshd"])
        #expect(got.map(\.parentCommandLine) == [nil, "sshd --from-proc"])
    }

    @Test func theSameParentIsNamedFromTheTableWithoutReadingItsProgram() {
        let live = FakeProcesses()
        live.processes[200] = ("sh", 1000)  // what /proc would say (comm), once the exec is seen
        let got = events(
            [exec(serial: 1, pid: 200, ppid: 1, name: "bash"), exec(serial: 2, pid: 201, ppid: 200, name: "nc")],
            live: live
        )
        #expect(got.map(\.parentProcName) == [nil, "bash"])
        #expect(live.programReads == 0, "bash came from the table (pid 1 is not running here)")
    }

    @Test func aParentThatStartedBeforeTheAgentIsNamedFromProc() {
        let live = FakeProcesses()
        live.processes[300] = ("cron", 5)
        let got = events(
            [exec(serial: 1, pid: 301, ppid: 300, name: "nc"), exec(serial: 2, pid: 302, ppid: 300, name: "nc")],
            live: live
        )
        #expect(got.map(\.parentProcName) == ["cron", "cron"])
        #expect(got.map(\.parentExePath) == ["/proc-exe/cron", "/proc-exe/cron"])
        #expect(got.map(\.parentCommandLine) == ["cron --from-proc", "cron --from-proc"])
        #expect(live.programReads == 1, "the second child finds its parent in the table")
    }

    @Test func aParentGoneFromProcKeepsTheNameTheTableHas() {
        let live = FakeProcesses()
        live.processes[200] = ("bash", 1000)
        let got = events(
            [exec(serial: 1, pid: 200, ppid: 1, name: "bash"), exec(serial: 2, pid: 201, ppid: 200, name: "nc")],
            live: live
        ) { index in
            if index == 0 { live.processes[200] = nil }
        }
        #expect(got.map(\.parentProcName) == [nil, "bash"])
    }

    @Test func aProcessGoneBeforeItsStartTimeWasReadIsNotTheOneHavingItsPidLater() {
        let live = FakeProcesses()  // pid 200 exits before the agent looks
        let got = events(
            [exec(serial: 1, pid: 200, ppid: 1, name: "bash"), exec(serial: 2, pid: 201, ppid: 200, name: "nc")],
            live: live
        ) { index in
            if index == 0 { live.processes[200] = ("sshd", 2000) }
        }
        #expect(got.map(\.parentProcName) == [nil, "sshd"])
    }

    @Test func replayKeysByPidAloneAndTakesParentFactsFromTheLog() {
        let got = events(
            [
                exec(serial: 1, pid: 200, ppid: 1, name: "bash", argument: "-c"),
                exec(serial: 2, pid: 201, ppid: 200, name: "nc", argument: "-l"),
            ],
            live: nil
        )
        #expect(got.map(\.parentProcName) == [nil, "bash"])
        #expect(got.map(\.parentExePath) == [nil, "/usr/bin/bash"])
        #expect(got.map(\.parentCommandLine) == [nil, "bash -c"])
    }

    @Test func aChildOfASeenShellGetsTheShellsExecutableAndCommandLine() {
        let live = FakeProcesses()
        live.processes[200] = ("bash", 1000)
        let got = events(
            [
                exec(serial: 1, pid: 200, ppid: 1, name: "bash", argument: "-i"),
                exec(serial: 2, pid: 201, ppid: 200, name: "nc", argument: "-l"),
            ],
            live: live
        )
        #expect(got[1].parentExePath == "/usr/bin/bash")
        #expect(got[1].parentCommandLine == "bash -i")
        #expect(live.programReads == 0, "the shell came from the table (pid 1 is not running here)")
    }

    @Test func invokedPathIsPathItemZeroMadeAbsoluteAgainstTheCwd() {
        let got = events([exec(serial: 1, pid: 200, ppid: 1, name: "nc")], live: nil)
        #expect(got.first?.invokedPath == "/home/u/nc")
        #expect(got.first?.exePath == "/usr/bin/nc")
    }
}
