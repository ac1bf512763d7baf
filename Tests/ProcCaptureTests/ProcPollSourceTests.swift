import Capture
import ExecEvents
import Synchronization
import Testing

@testable import ProcCapture

#if canImport(Glibc)
import Glibc
#endif

/// The /proc polling source on the real host.
@Suite struct ProcPollSourceTests {
    @Test(.enabled(if: isRoot, "runuser needs root"))
    func newProcessesAndExecsAreSeenOnce() throws {
        let before = try ChildProcess("/bin/sleep", arguments: "5")
        let running = try RunningSource(
            ProcPollSource(period: .milliseconds(100), snapshotConfiguration: .init(hostName: "test-host"))
        )
        sleepSeconds(0.3)  // the first scan has recorded `before`

        let asNobody = try ChildProcess("/usr/sbin/runuser", arguments: "-u", "nobody", "--", "/bin/sleep", "1")
        // A forked copy of the shell (the subshell) must not count as an exec; the `exec` at the end
        // replaces the shell's program in the same process and must.
        let script = "(/bin/sleep 0.5; :); exec /bin/sleep 0.5"
        let shell = try ChildProcess("/bin/sh", arguments: "-c", script)
        asNobody.wait()
        shell.wait()
        sleepSeconds(0.2)
        try running.stop()
        let events = running.sink.delivered

        #expect(running.sink.events(ofPID: before.pid).isEmpty, "a process running before the first scan")
        let sleeps = events.filter { $0.argumentText == ["/bin/sleep", "1"] }
        #expect(sleeps.count == 1)
        #expect(sleeps.first?.user == "nobody")
        #expect(sleeps.first?.procName == "sleep")

        let shellEvents = running.sink.events(ofPID: shell.pid).map(\.argumentText)
        #expect(shellEvents == [["/bin/sh", "-c", script], ["/bin/sleep", "0.5"]])
        #expect(events.filter { $0.argumentText == ["/bin/sh", "-c", script] }.count == 1, "the subshell is a fork")
        #expect(events.filter { $0.argumentText == ["/bin/sleep", "0.5"] }.count == 2)
        #expect(running.source.counters.delivered.current == events.count)
    }

    /// The agent says it is running once the source reports its set-up: an exec right after that
    /// must be reported, so the report comes after the first scan (which only records what runs).
    @Test func reportsItsSetUpOnlyAfterTheFirstScan() throws {
        let started = Mutex<ChildProcess?>(nil)
        let running = try RunningSource(
            ProcPollSource(period: .milliseconds(100), snapshotConfiguration: .init(hostName: "h")) {
                // Had the first scan not run yet, it would find this process and record it.
                started.withLock { $0 = try? ChildProcess("/bin/sleep", arguments: "0.7") }
                sleepSeconds(0.1)
            }
        )
        let deadline = monotonicSeconds() + 5
        while started.withLock({ $0 == nil }) && monotonicSeconds() < deadline { sleepSeconds(0.01) }
        let pid = try #require(started.withLock { $0?.pid })
        let seen = running.sink.waitFor { _ in !running.sink.events(ofPID: pid).isEmpty }
        try running.stop()
        #expect(seen, "the exec right after the set-up was reported")
        #expect(running.sink.events(ofPID: pid).first?.argumentText == ["/bin/sleep", "0.7"])
        started.withLock { $0?.wait() }
    }

    @Test func limitationIsStated() {
        #expect(
            ProcPollSource(period: .milliseconds(250)).limitation
                == "polling every 250 ms: processes shorter-lived than that can be missed"
        )
        #expect(ProcPollSource().limitation.hasPrefix("polling every 1000 ms"))
        #expect(ProcPollSource().name == "proc-poll")
    }

    @Test func stopsWithinHalfASecondEvenBetweenLongPeriods() throws {
        let running = try RunningSource(
            ProcPollSource(period: .seconds(10), snapshotConfiguration: .init(hostName: "h"))
        )
        sleepSeconds(0.3)
        let latency = try running.stop()
        #expect(latency < 0.5, "stopped after \(latency) s")
        #expect(running.sink.delivered.isEmpty)
    }
}
