import ExecEvents
import RuleEngine
import Testing

@testable import Agent

@Suite("The pipeline's memory bounds, as status and metrics show them")
struct PipelineMemoryTests {
    static func swParamRule() -> Rule {
        let xml = """
            <Rules><Rule group="G" id="M1" phIncidentCategory="Server" function="Security" subFunction="Execution" technique="T1059.004">
              <Name>m</Name><active>true</active><Description>d</Description>
              <IncidentDef eventType="PH_RULE_M1" severity="3"><ArgList>hostName = Filter.hostName</ArgList></IncidentDef>
              <PatternClause window="300"><SubPattern displayName="Filter" name="Filter">
                <SingleEvtConstr>procName = "true"</SingleEvtConstr>
                <GroupByAttr>hostName, swParam</GroupByAttr>
                <GroupEvtConstr>COUNT(*) &gt;= 5</GroupEvtConstr>
              </SubPattern></PatternClause>
            </Rule></Rules>
            """
        return RuleDocument.parse(xml, file: "m.xml").rules[0]
    }

    @Test func evictionsAndBytesHeldReachTheCounters() {
        let p = DetectionPipeline(
            engine: DetectionEngine(
                rules: [Self.swParamRule()],
                configuration: EngineConfiguration(agentId: "t", maxBytes: 2 << 20)
            ),
            hostName: "h",
            graceMilliseconds: 1_000_000,
            reassemblyMaxBytes: 1 << 20,
            deliver: { _ in }
        )
        let argument = String(repeating: "y", count: 100 << 10)
        for n in 0..<40 {
            p.exec(
                ExecEvent(
                    eventTime: EventTime(seconds: 100),
                    hostName: "h",
                    procName: "true",
                    swParam: "\(n)" + argument
                )
            )
            // EXECVE records of events whose SYSCALL record never comes: held until evicted.
            let line = "type=EXECVE msg=audit(1700000000.000:\(n)): argc=2 a0=\"true\" a1=\"\(argument)\""
            Array(line.utf8).withUnsafeBytes { p.auditLine($0) }
            #expect(p.counters.engineBytes.current <= 2 << 20)
            #expect(p.counters.reassemblyBytes.current <= 1 << 20)
        }
        #expect(p.counters.engineBytes.current > 1 << 20)
        #expect(p.counters.groupsEvicted.current > 20)
        #expect(p.counters.engineBytesEvicted.current > 20 * 200 << 10)
        #expect(p.counters.reassemblyBytes.current > 512 << 10)
        #expect(p.counters.pendingExecsEvicted.current > 20)
    }

    @Test func groupsAndIncidentsClosedReachTheCounters() {
        let p = DetectionPipeline(
            engine: DetectionEngine(
                rules: [Self.swParamRule()],
                configuration: EngineConfiguration(agentId: "t", forgetsClosedGroups: true)
            ),
            hostName: "h",
            graceMilliseconds: 1_000_000,
            deliver: { _ in }
        )
        // One incident (five events in its window), then an event past the window (300 s) and
        // the late margin (60 s): the group and its incident close and are forgotten.
        for _ in 0..<5 {
            p.exec(ExecEvent(eventTime: EventTime(seconds: 100), hostName: "h", procName: "true", swParam: "a"))
        }
        #expect(p.counters.incidentsCreated.current == 1)
        #expect(p.counters.groupsClosed.current == 0 && p.counters.incidentsClosed.current == 0)
        p.exec(ExecEvent(eventTime: EventTime(seconds: 500), hostName: "h", procName: "true", swParam: "b"))
        #expect(p.counters.groupsClosed.current == 1)
        #expect(p.counters.incidentsClosed.current == 1)
    }

    @Test func statusAndMetricsShowTheBudgetsAndEvictions() throws {
        let memory = MemoryStatus(
            engineMaxBytes: 32 << 20,
            engineBytes: 1234,
            groupsEvicted: 5,
            incidentsForgotten: 6,
            engineBytesEvicted: 7,
            groupsClosed: 11,
            incidentsClosed: 12,
            processesEvicted: 13,
            reassemblyMaxBytes: 16 << 20,
            reassemblyBytes: 89,
            pendingExecsEvicted: 10
        )
        let status = AgentStatus.sample(memory: memory)
        let json = try JSONValue.parse(bytes: status.json)
        #expect(json["engineMaxBytes"] == .integer(32 << 20))
        #expect(json["engineBytes"] == .integer(1234))
        #expect(json["groupsEvicted"] == .integer(5))
        #expect(json["incidentsForgotten"] == .integer(6))
        #expect(json["engineEvictedBytes"] == .integer(7))
        #expect(json["reassemblyMaxBytes"] == .integer(16 << 20))
        #expect(json["reassemblyBytes"] == .integer(89))
        #expect(json["pendingExecsEvicted"] == .integer(10))
        #expect(json["groupsClosed"] == .integer(11))
        #expect(json["incidentsClosed"] == .integer(12))
        #expect(json["processesEvicted"] == .integer(13))
        let lines = AgentStatus.render(json: json).split(separator: "\n")
        for (key, value) in [("groupsClosed", "11"), ("incidentsClosed", "12"), ("processesEvicted", "13")] {
            #expect(lines.contains { $0.hasPrefix(key + ":") && $0.hasSuffix(" " + value) }, "\(key) not shown")
        }
        #expect(AgentStatus.render(json: json).contains("engineMaxBytes:"))
        #expect(AgentStatus.render(json: json).contains("32 MiB (33554432 bytes)"))

        let metrics = MetricsServer.exposition(status)
        #expect(metrics.contains("\nexecwatch_engine_memory_budget_bytes 33554432\n"))
        #expect(metrics.contains("\nexecwatch_engine_memory_bytes 1234\n"))
        #expect(metrics.contains("\nexecwatch_groups_evicted_total 5\n"))
        #expect(metrics.contains("\nexecwatch_incidents_forgotten_total 6\n"))
        #expect(metrics.contains("\nexecwatch_engine_evicted_bytes_total 7\n"))
        #expect(metrics.contains("\nexecwatch_reassembly_memory_bytes 89\n"))
        #expect(metrics.contains("\nexecwatch_reassembly_memory_budget_bytes 16777216\n"))
        #expect(metrics.contains("\nexecwatch_pending_execs_evicted_total 10\n"))
        #expect(metrics.contains("\nexecwatch_groups_closed_total 11\n"))
        #expect(metrics.contains("\nexecwatch_incidents_closed_total 12\n"))
        #expect(metrics.contains("\nexecwatch_processes_evicted_total 13\n"))
    }
}
