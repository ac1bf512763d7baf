import Capture
import ExecEvents
import Synchronization
import Testing

@testable import ProcCapture

#if canImport(Glibc)
import Glibc
#endif

/// The proc connector source on the real kernel, with real netcat binaries (needs root).
///
/// A program that exits at once (`nc -h`) may be gone before /proc is read: such a run is either
/// an event with the right name and arguments, or counted in `processesGone`. Programs that live
/// a little (`sleep 0.2`) are always seen.
@Suite(.enabled(if: isRoot, "the proc connector needs CAP_NET_ADMIN"))
struct ProcConnectorSourceTests {
    /// Starts the source and waits until it receives events (any exec on the host counts).
    private func startListening() throws -> RunningSource {
        let running = try RunningSource(ProcConnectorSource(snapshotConfiguration: .init(hostName: "test-host")))
        let counters = running.source.counters
        let deadline = monotonicSeconds() + 5
        while counters.delivered.current + counters.processesGone.current == 0 {
            guard monotonicSeconds() < deadline else { throw TestFailure("no proc event within 5 s") }
            try ChildProcess("/bin/true").wait()
            sleepSeconds(0.05)
        }
        return running
    }

    @Test func netcatRunsAndSleepsBecomeEvents() throws {
        let running = try startListening()
        let goneBefore = running.source.counters.processesGone.current

        struct QuickRun {
            var pid: Int32
            var procName: String
            var argv: [String]
            var exe: String
        }
        var quick: [QuickRun] = []
        for (path, argv) in [
            ("/usr/bin/nc", ["nc", "-h"]), ("/usr/bin/nc.traditional", ["nc.traditional", "-h"]),
            ("/usr/bin/ncat", ["ncat", "--version"]),
        ] {
            let child = try ChildProcess(path, argv: argv.map(bytes))
            child.wait()
            quick.append(QuickRun(pid: child.pid, procName: argv[0], argv: argv, exe: resolvedPath(path) ?? path))
        }
        let sleeper = try ChildProcess("/bin/sleep", arguments: "0.2")
        let otherUser = try ChildProcess("/usr/sbin/runuser", arguments: "-u", "nobody", "--", "/bin/sleep", "0.3")
        sleeper.wait()
        otherUser.wait()

        let sink = running.sink
        let sawBoth = sink.waitFor { events in
            events.contains { $0.argumentText == ["/bin/sleep", "0.3"] } && !sink.events(ofPID: sleeper.pid).isEmpty
        }
        try running.stop()
        #expect(sawBoth)

        let sleep = try #require(sink.events(ofPID: sleeper.pid).first)
        #expect(sleep.procName == "sleep")
        #expect(sleep.swParam == "0.2")
        #expect(sleep.user == "root" && sleep.uid == 0)
        #expect(sleep.exePath == resolvedPath("/bin/sleep"))
        #expect(sleep.parentProcId == Int64(getpid()))
        // The parent (this test) predates the source: named from /proc, with its executable.
        #expect(sleep.parentProcName.map { $0.hasPrefix(ownComm() ?? "?") } == true)
        #expect(sleep.parentExePath == resolvedPath("/proc/self/exe"))
        #expect(sleep.invokedPath == "/bin/sleep")
        #expect(sleep.hostName == "test-host")

        let asNobody = try #require(sink.delivered.first { $0.argumentText == ["/bin/sleep", "0.3"] })
        #expect(asNobody.user == "nobody" && asNobody.uid == 65534 && asNobody.euid == 65534)
        #expect(asNobody.procName == "sleep")
        #expect(asNobody.parentProcName == "runuser")
        #expect(asNobody.parentCommandLine == "/usr/sbin/runuser -u nobody -- /bin/sleep 0.3")
        #expect(sink.events(ofPID: otherUser.pid).first?.procName == "runuser")

        var missed = 0
        for run in quick {
            guard let event = sink.events(ofPID: run.pid).first else {
                missed += 1
                continue
            }
            #expect(event.procName == run.procName)
            #expect(event.argumentText == run.argv)
            #expect(event.swParam == run.argv.dropFirst().joined(separator: " "))
            #expect(event.exePath == nil || event.exePath == run.exe)  // nil: exited while being read
        }
        #expect(running.source.counters.processesGone.current - goneBefore >= missed)
        #expect(running.source.counters.delivered.current >= 3)
        #expect(running.source.counters.malformed.current == 0)
    }

    /// The agent says it is running once the source reports its set-up: an exec right after that
    /// must be reported, so the report comes after the subscription.
    @Test func reportsItsSetUpOnlyOnceSubscribed() throws {
        let started = Mutex<ChildProcess?>(nil)
        let running = try RunningSource(
            ProcConnectorSource(snapshotConfiguration: .init(hostName: "test-host")) {
                started.withLock { $0 = try? ChildProcess("/bin/sleep", arguments: "0.4") }
                sleepSeconds(0.05)  // the exec is done before the source goes on
            }
        )
        let deadline = monotonicSeconds() + 5
        while started.withLock({ $0 == nil }) && monotonicSeconds() < deadline { sleepSeconds(0.01) }
        let pid = try #require(started.withLock { $0?.pid })
        let seen = running.sink.waitFor { _ in !running.sink.events(ofPID: pid).isEmpty }
        try running.stop()
        #expect(seen, "the exec right after the set-up was reported")
        started.withLock { $0?.wait() }
    }

    /// The event time is when the kernel saw the exec, on the wall clock.
    @Test func eventTimeIsTheExecTime() throws {
        let running = try startListening()
        let before = EventTime.now.millisecondsSinceEpoch
        let child = try ChildProcess("/bin/sleep", arguments: "0.2")
        child.wait()
        let after = EventTime.now.millisecondsSinceEpoch
        _ = running.sink.waitFor { _ in !running.sink.events(ofPID: child.pid).isEmpty }
        try running.stop()
        let event = try #require(running.sink.events(ofPID: child.pid).first)
        #expect(event.eventTime.millisecondsSinceEpoch >= before - 5)
        #expect(event.eventTime.millisecondsSinceEpoch <= after - 150)  // long before sleep ended
    }

    /// The subscription as the source makes it, read by hand: the kernel's messages decode with
    /// the hand-written offsets (the exec names our child), and on Linux 6.6+ the filtered request
    /// leaves nothing but execs and acks on the socket.
    @Test func theKernelSendsExecsThatDecode() throws {
        var socket = try ProcConnectorSocket(receiveBufferBytes: 1 << 20)
        try socket.send(.listen)
        try socket.send(.listen, eventFilter: ProcConnectorWire.EventKind.exec)
        defer { _ = try? socket.send(.ignore) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        // What other programs did between the two listen requests arrived unfiltered: not ours.
        while case .datagram = try socket.receive(into: buffer) {}
        let child = try ChildProcess("/bin/true")
        child.wait()
        sleepSeconds(0.2)

        var events: [ProcConnectorWire.Event] = []
        while case .datagram(let length) = try socket.receive(into: buffer) {
            let malformed = ProcConnectorWire.forEachEvent(in: UnsafeRawBufferPointer(rebasing: buffer[0..<length])) {
                events.append($0)
            }
            #expect(malformed == 0)
        }
        let exec = events.first { $0.what == ProcConnectorWire.EventKind.exec && $0.second == UInt32(child.pid) }
        #expect(exec?.first == UInt32(child.pid))
        #expect(exec.map { $0.timestampNanoseconds <= MonotonicClock.nanoseconds() } == true)
        if kernelVersion() >= (6, 6) {
            let kinds = Set(events.map(\.what))
            #expect(kinds.isSubset(of: [ProcConnectorWire.EventKind.none, ProcConnectorWire.EventKind.exec]))
        }
    }

    private func kernelVersion() -> (Int, Int) {
        let release = (readText("/proc/sys/kernel/osrelease") ?? "").split(separator: ".")
        return (Int(release.first ?? "") ?? 0, Int(release.dropFirst().first ?? "") ?? 0)
    }

    @Test func stopsWithinHalfASecond() throws {
        let running = try startListening()
        sleepSeconds(0.2)
        let latency = try running.stop()
        #expect(latency < 0.5, "stopped after \(latency) s")
    }
}
