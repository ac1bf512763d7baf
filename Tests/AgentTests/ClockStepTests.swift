import ExecEvents
import Foundation
import Journal
import Logging
import RuleEngine
import TestSupport
import Testing

@testable import Agent

/// The clock steps back an hour, then forward a day, with an incident open: audit records carry
/// the kernel's wall-clock time, so a replay of records whose times step is what the agent sees
/// live. Outcome (README, "What happens when…"): no crash; every exec still counts; the group's
/// window restarts at a step back; `firstSeen` is the earliest and `lastSeen` the latest time
/// counted (so `lastSeen` never moves back); the journal stores every change in order, version + 1
/// each, and the outbox keeps them in that order whatever their times.
@Suite("A clock that steps")
struct ClockStepTests {
    /// The records of one successful `nc ARGUMENT` exec, as the kernel writes them at `time`.
    static func ncExec(at time: String, serial: Int, pid: Int, argument: String) -> [String] {
        let stamp = "msg=audit(\(time):\(serial)):"
        return [
            "type=SYSCALL \(stamp) arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 "
                + "ppid=1 pid=\(pid) auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) "
                + "ses=3 comm=\"nc\" exe=\"/usr/bin/nc.openbsd\" key=\"execwatch\"",
            "type=EXECVE \(stamp) argc=2 a0=\"nc\" a1=\"\(argument)\"",
            "type=CWD \(stamp) cwd=\"/\"",
            "type=PATH \(stamp) item=0 name=\"/usr/bin/nc\" inode=1 dev=fe:00 mode=0100755 ouid=0 ogid=0 "
                + "rdev=00:00 nametype=NORMAL",
            "type=EOE \(stamp)",
        ]
    }

    /// The same outcome whether the engine keeps closed groups (`replay`) or forgets them (the
    /// agent): what the journal stores does not depend on what the engine remembers.
    @Test(arguments: [false, true])
    func stepsBackAnHourAndForwardADayWithAnIncidentOpen(forgetsClosedGroups: Bool) async throws {
        let rules = RuleLoader.load(
            paths: [
                URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../rules").path
            ]
        )
        let directory = try TemporaryDirectory()
        let journal = try await IncidentJournal.open(stateDirectory: directory.path)
        let writer = JournalWriter(capacity: 100, dropped: {})
        let pipeline = DetectionPipeline(
            engine: DetectionEngine(
                rules: rules.rules,
                configuration: EngineConfiguration(agentId: "test", forgetsClosedGroups: forgetsClosedGroups)
            ),
            hostName: "h",
            graceMilliseconds: 2000,
            deliver: { writer.offer($0) }
        )
        let t = 1_795_935_700  // 2026-11-28
        // (time, argument): two execs, an hour back, another, a day forward, another.
        let execs: [(Int, String)] = [
            (t, "-h"), (t + 10, "-h"),
            (t + 20 - 3600, "-h"), (t + 21 - 3600, "-z"),
            (t + 22 - 3600 + 86_400, "-h"), (t + 23 - 3600 + 86_400, "-z"),
        ]
        for (serial, (time, argument)) in execs.enumerated() {
            for line in Self.ncExec(at: "\(time).000", serial: 100 + serial, pid: 500 + serial, argument: argument) {
                Array(line.utf8).withUnsafeBytes { pipeline.auditLine($0) }
            }
            pipeline.idle(now: EventTime(seconds: Int64(time)))
        }
        pipeline.finish()
        writer.finish()
        await writer.run(store: journal, logger: Logger(label: "test"))

        #expect(pipeline.counters.events.current == 6)
        // The engine's view: the first exec a day forward closed the other group (agent), whose
        // next exec the engine then created again.
        #expect(pipeline.counters.incidentsCreated.current == (forgetsClosedGroups ? 3 : 2))
        #expect(pipeline.counters.incidentsUpdated.current == (forgetsClosedGroups ? 3 : 4))
        var stored: [String: StoredIncident] = [:]
        for incident in try await journal.incidents() {
            if case .string(let argument) = try incident.incident().attribute("swParam") { stored[argument] = incident }
        }
        #expect(stored.count == 2)
        let help = try #require(stored["-h"])
        #expect(help.count == 4 && help.version == 4)
        #expect(help.firstSeen == EventTime(seconds: Int64(t + 20 - 3600)))
        #expect(help.lastSeen == EventTime(seconds: Int64(t + 22 - 3600 + 86_400)))
        let zero = try #require(stored["-z"])
        #expect(zero.count == 2 && zero.version == 2)
        #expect(zero.firstSeen == EventTime(seconds: Int64(t + 21 - 3600)))
        // The outbox: every change once, in the order it was made.
        let outbox = try await journal.pendingOutbox(limit: 100)
        #expect(outbox.map(\.version) == [1, 2, 3, 1, 4, 2])
        try await journal.close()
    }
}
