import AuditCapture
import Capture
import ExecEvents
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension LiveAuditTests {
    @Test("unicast: becomes the audit daemon, captures real netcat runs, restores audit state")
    func unicastCapturesNetcatRuns() throws {
        try Self.withHostAudit { before in
            if let owner = Self.liveAuditDaemon(before) {
                throw TestFailure("audit is owned by pid \(owner); the unicast test needs no audit daemon running")
            }
            let key = Self.testKey()
            let source = AuditNetlinkSource(mode: .unicast, ruleKey: key)
            let sink = RecordingSink()
            let capture = try BackgroundCapture(source, into: sink)
            // Stopped also when the test fails on the way, so that no source outlives it.
            defer { _ = try? capture.stopAndWait() }
            try capture.waitUntil { source.snapshot.phase == .running }

            let during = try HostAuditState.read()
            #expect(during.pid == getpid())
            #expect(during.enabled == 1)
            #expect(during.status["backlog_limit"] == "8192")
            #expect(during.status["backlog_wait_time"] == "0")
            #expect(during.rules.contains("-a always,exit -F arch=b64 -S execve,execveat -F key=\(key)"))
            #expect(during.rules.contains("-a always,exit -F arch=b32 -S execve,execveat -F key=\(key)"))
            #expect(source.snapshot.rulesAdded.count == 2)
            #expect(source.snapshot.isAuditDaemon)

            try Command.run("/usr/bin/nc", "-h")
            try Command.run("/usr/bin/nc.traditional", "-h")
            try Command.run("/usr/bin/ncat", "--version")
            try Command.run("/bin/true")
            try Command.run("/usr/sbin/runuser", "-u", "nobody", "--", "/usr/bin/nc", "-h")
            let complete = sink.wait { events in
                events.contains { $0.user == "nobody" && $0.procName == "nc" }
                    && events.contains { $0.procName == "true" }
            }
            let (result, _) = try capture.stopAndWait()
            try result.get()
            sink.finish()
            let events = sink.eventsOfThisTest
            #expect(complete, "events seen: \(events.map(Self.summary))")

            let nc = events.first { $0.procName == "nc" && $0.user == "root" }
            #expect(nc?.exePath == "/usr/bin/nc.openbsd")
            #expect(nc?.swParam == "-h")
            #expect(nc?.auditKey == key)
            let traditional = events.first { $0.procName == "nc.traditional" }
            #expect(traditional?.exePath == "/usr/bin/nc.traditional")
            #expect(traditional?.swParam == "-h")
            let ncat = events.first { $0.procName == "ncat" }
            #expect(ncat?.exePath == "/usr/bin/ncat")
            #expect(ncat?.swParam == "--version")
            let truth = events.first { $0.procName == "true" }
            #expect(truth?.exePath == "/usr/bin/true")
            #expect(truth?.swParam == "")
            let asNobody = events.first { $0.procName == "nc" && $0.user == "nobody" }
            #expect(asNobody?.exePath == "/usr/bin/nc.openbsd")
            #expect(asNobody?.swParam == "-h")
            #expect(asNobody?.uid == 65534)
            #expect(asNobody?.parentProcName == "runuser")

            #expect(source.counters.delivered.current > 0)
            #expect(source.counters.delivered.current == sink.records)
            #expect(sink.unparsed.isEmpty, "records the parser refused: \(sink.unparsed.prefix(5))")
            #expect(source.snapshot.phase == .stopped)
            #expect(source.snapshot.restoreProblems.isEmpty)
            print(
                "unicast: \(sink.records) records, \(sink.statistics.execs) execs on the host, "
                    + "gaps \(source.counters.sequenceGaps.current), overruns \(source.counters.socketOverruns.current), "
                    + "kernel lost \(source.counters.kernelLost.current)"
            )
        }
    }

    @Test("unicast: a second source while one runs fails naming the owning pid, and changes nothing")
    func secondUnicastSourceIsRefused() throws {
        try Self.withHostAudit { before in
            if let owner = Self.liveAuditDaemon(before) {
                throw TestFailure("audit is owned by pid \(owner); the unicast test needs no audit daemon running")
            }
            let first = AuditNetlinkSource(mode: .unicast, ruleKey: Self.testKey())
            let capture = try BackgroundCapture(first, into: RecordingSink())
            // Stopped also when the test fails on the way, so that no source outlives it.
            defer { _ = try? capture.stopAndWait() }
            try capture.waitUntil { first.snapshot.phase == .running }
            let whileFirstRuns = try HostAuditState.read()

            let secondKey = Self.testKey()
            let second = AuditNetlinkSource(mode: .unicast, ruleKey: secondKey)
            let error = #expect(throws: CaptureError.self) {
                try second.run(into: RecordingSink(), until: try StopSignal())
            }
            #expect(error?.errno == EEXIST)
            #expect(
                error?.description.contains("audit is owned by pid \(getpid())") == true,
                "\(String(describing: error))"
            )
            #expect(error?.description.contains("use --source audit-multicast") == true)
            #expect(try HostAuditState.read() == whileFirstRuns, "the refused source changed the audit state")
            #expect(second.snapshot.rulesAdded.isEmpty)

            let (result, _) = try capture.stopAndWait()
            try result.get()
        }
    }

    @Test("unicast: signalling stop makes run return within half a second")
    func unicastStopsPromptly() throws {
        try Self.withHostAudit { before in
            if let owner = Self.liveAuditDaemon(before) {
                throw TestFailure("audit is owned by pid \(owner); the unicast test needs no audit daemon running")
            }
            let setUpCalls = Atomic(0)
            var configuration = AuditNetlinkSource.Configuration(mode: .unicast, ruleKey: Self.testKey())
            configuration.whenSetUp = { setUpCalls.add(1, ordering: .relaxed) }
            let source = AuditNetlinkSource(configuration: configuration)
            let capture = try BackgroundCapture(source, into: RecordingSink())
            // Stopped also when the test fails on the way, so that no source outlives it.
            defer { _ = try? capture.stopAndWait() }
            try capture.waitUntil { source.snapshot.phase == .running }
            usleep(300_000)  // let it sit in poll
            #expect(setUpCalls.load(ordering: .relaxed) == 1)
            let (result, seconds) = try capture.stopAndWait()
            try result.get()
            #expect(seconds < 0.5, "run returned \(seconds) s after stop")
            print("unicast: run returned \(Int(seconds * 1000)) ms after stop")
        }
    }

    @Test("unicast: kernelLost counts what the kernel drops from set-up on, not its counter since boot")
    func unicastCountsKernelLostFromItsSetUp() throws {
        try Self.withHostAudit { before in
            if let owner = Self.liveAuditDaemon(before) {
                throw TestFailure("audit is owned by pid \(owner); the unicast test needs no audit daemon running")
            }
            let lostBefore = Int(try AuditLink().status().lost)
            var configuration = AuditNetlinkSource.Configuration(mode: .unicast, ruleKey: Self.testKey())
            configuration.statusIntervalMilliseconds = 100
            let source = AuditNetlinkSource(configuration: configuration)
            let capture = try BackgroundCapture(source, into: RecordingSink())
            // Stopped also when the test fails on the way, so that no source outlives it.
            defer { _ = try? capture.stopAndWait() }
            try capture.waitUntil { source.snapshot.phase == .running }
            usleep(500_000)  // several periodic reads
            let reported = source.counters.kernelLost.current
            let lostNow = Int(try AuditLink().status().lost)
            let (result, _) = try capture.stopAndWait()
            try result.get()
            // Before, the status showed the kernel's counter since boot (records dropped before the
            // agent started, e.g. by another audit reader) as if lost while the agent ran.
            #expect(
                reported <= lostNow - lostBefore,
                "kernelLost \(reported); the kernel's lost was \(lostBefore) before the start, \(lostNow) after"
            )
            if lostBefore == 0 { print("unicast: the kernel's lost counter is 0 here: this test shows little") }
        }
    }

    @Test("unicast: a burst of 2000 execs arrives whole: no event, serial or socket loss")
    func unicastBurstArrivesWhole() throws {
        try Self.withHostAudit { before in
            if let owner = Self.liveAuditDaemon(before) {
                throw TestFailure("audit is owned by pid \(owner); the unicast test needs no audit daemon running")
            }
            let source = AuditNetlinkSource(mode: .unicast, ruleKey: Self.testKey())
            let sink = RecordingSink()
            let capture = try BackgroundCapture(source, into: sink)
            // Stopped also when the test fails on the way, so that no source outlives it.
            defer { _ = try? capture.stopAndWait() }
            try capture.waitUntil { source.snapshot.phase == .running }
            let lostBefore = try AuditLink().status().lost
            let start = ContinuousClock.now
            try Command.run("/bin/sh", "-c", "i=0; while [ $i -lt 2000 ]; do /bin/true burst; i=$((i+1)); done")
            let elapsed = ContinuousClock.now - start
            let arrived = sink.wait { events in events.filter { $0.swParam == "burst" }.count >= 2000 }
            let (result, _) = try capture.stopAndWait()
            try result.get()
            let burst = sink.eventsOfThisTest.filter { $0.procName == "true" && $0.swParam == "burst" }
            #expect(arrived)
            #expect(burst.count == 2000)
            #expect(source.counters.sequenceGaps.current == 0)
            #expect(source.counters.socketOverruns.current == 0)
            #expect(try AuditLink().status().lost == lostBefore, "the kernel lost records")
            print("unicast: 2000 execs in \(elapsed), \(sink.records) records delivered")
        }
    }

    static func summary(_ event: ExecEvent) -> String {
        "\(event.procName ?? "?") [\(event.swParam ?? "")] exe=\(event.exePath ?? "?") user=\(event.user ?? "?")"
    }
}
