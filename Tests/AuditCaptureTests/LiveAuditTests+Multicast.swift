import AuditCapture
import Capture
import ExecEvents
import Foundation
import Testing

extension LiveAuditTests {
    @Test("multicast beside a real auditd, and audisp as that auditd's plugin: both see netcat runs")
    func multicastAndAudispBesideAuditd() throws {
        try Self.withHostAudit { before in
            if let owner = Self.liveAuditDaemon(before) {
                throw TestFailure(
                    "audit is owned by pid \(owner); this test starts an auditd of its own and needs none"
                )
            }
            let auditd = try TemporaryAuditd(withPlugin: true)
            defer {
                auditd.stop()
                Self.restoreSettings(as: before)
            }
            let fifo = open(auditd.pluginFIFO!, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            try #require(fifo >= 0, "cannot open the plugin FIFO: errno \(errno)")
            defer { close(fifo) }
            try auditd.waitUntilRegistered()
            let withAuditd = try HostAuditState.read()

            let plugin = AudispSource(configuration: .init(descriptor: fifo))
            let pluginSink = RecordingSink()
            let pluginCapture = try BackgroundCapture(plugin, into: pluginSink)
            // Stopped also when the test fails on the way, so that no source outlives it.
            defer { _ = try? pluginCapture.stopAndWait() }
            let key = Self.testKey()
            let source = AuditNetlinkSource(mode: .multicast, ruleKey: key)
            let sink = RecordingSink()
            let capture = try BackgroundCapture(source, into: sink)
            // Stopped also when the test fails on the way, so that no source outlives it.
            defer { _ = try? capture.stopAndWait() }
            try capture.waitUntil { source.snapshot.phase == .running }

            let during = try HostAuditState.read()
            #expect(during.pid == auditd.pid, "the multicast source must leave auditd registered")
            #expect(during.rules.contains("-a always,exit -F arch=b64 -S execve,execveat -F key=\(key)"))
            #expect(source.snapshot.rulesAdded.count == 2)
            #expect(!source.snapshot.isAuditDaemon)
            let availability = AuditAvailability.probe(ruleKey: key)
            #expect(availability.owner?.pid == auditd.pid)
            #expect(availability.owner?.name == "auditd")
            #expect(availability.agentRulesLoaded)
            #expect(availability.recommendation.source == .auditMulticast, "\(availability.recommendation.reason)")
            #expect(availability.recommendation.reason.contains("audit is owned by pid \(auditd.pid) (auditd)"))

            try Command.run("/usr/bin/nc", "-h")
            try Command.run("/usr/bin/ncat", "--version")
            try Command.run("/usr/sbin/runuser", "-u", "nobody", "--", "/usr/bin/nc.traditional", "-h")
            let expected: ([ExecEventSummary]) -> Bool = { events in
                events.contains(
                    ExecEventSummary(procName: "nc", exePath: "/usr/bin/nc.openbsd", swParam: "-h", user: "root")
                )
                    && events.contains(
                        ExecEventSummary(procName: "ncat", exePath: "/usr/bin/ncat", swParam: "--version", user: "root")
                    )
                    && events.contains(
                        ExecEventSummary(
                            procName: "nc.traditional",
                            exePath: "/usr/bin/nc.traditional",
                            swParam: "-h",
                            user: "nobody"
                        )
                    )
            }
            let multicastSaw = sink.wait { expected($0.map(ExecEventSummary.init)) }
            let pluginSaw = pluginSink.wait { expected($0.map(ExecEventSummary.init)) }
            let (result, _) = try capture.stopAndWait()
            try result.get()
            #expect(multicastSaw, "multicast events: \(sink.eventsOfThisTest.map(Self.summary))")
            #expect(pluginSaw, "plugin events: \(pluginSink.eventsOfThisTest.map(Self.summary))")
            #expect(sink.unparsed.isEmpty, "records the parser refused: \(sink.unparsed.prefix(5))")
            #expect(pluginSink.unparsed.isEmpty, "plugin lines the parser refused: \(pluginSink.unparsed.prefix(5))")
            #expect(plugin.counters.malformed.current == 0)

            let after = try HostAuditState.read()
            #expect(after == withAuditd, "the multicast source left the audit state changed")
            #expect(source.snapshot.restoreProblems.isEmpty)

            // auditd closing the plugin pipe ends the audisp source normally.
            auditd.stop()
            try pluginCapture.waitForEnd(timeoutSeconds: 5).get()
            #expect(plugin.counters.delivered.current == pluginSink.lines)
        }
    }

    /// Puts back what starting auditd changed (it enables audit), as the host had it.
    static func restoreSettings(as before: HostAuditState) {
        guard let link = try? AuditLink(), let now = try? link.status() else { return }
        if let limit = UInt32(before.status["backlog_limit"] ?? ""), now.backlogLimit != limit {
            try? link.setBacklogLimit(limit)
        }
        if let wait = UInt32(before.status["backlog_wait_time"] ?? ""), now.backlogWaitTime != wait {
            try? link.setBacklogWaitTime(wait)
        }
        if let enabled = UInt32(before.status["enabled"] ?? ""), now.enabled != enabled {
            try? link.setEnabled(enabled)
        }
    }
}

/// The attributes a test checks of an exec event.
struct ExecEventSummary: Equatable {
    var procName: String?
    var exePath: String?
    var swParam: String?
    var user: String?
}

extension ExecEventSummary {
    init(_ event: ExecEvent) {
        self.init(procName: event.procName, exePath: event.exePath, swParam: event.swParam, user: event.user)
    }
}
