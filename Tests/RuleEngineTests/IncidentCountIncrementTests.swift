import ExecEvents
import Testing

@testable import RuleEngine

/// What each change tells a journal to add to the count it keeps: the events counted that no
/// earlier change of the incident reported, also when the engine forgot the incident meanwhile.
@Suite struct IncidentCountIncrementTests {
    @Test func eachChangeCarriesTheEventsItCountedFirst() {
        var e = engine([rule(filter: #"procName = "nc""#, aggregate: "COUNT(*) >= 2")])
        #expect(e.process(exec(at: 0)).isEmpty)
        let created = e.process(exec(at: 1))
        #expect(created.map(\.kind) == [.created])
        #expect(created.map(\.countIncrement) == [2])
        #expect(created.first?.incident.count == 2)
        let updated = e.process(exec(at: 2))
        #expect(updated.map(\.kind) == [.updated])
        #expect(updated.map(\.countIncrement) == [1])
        #expect(updated.first?.incident.count == 3)
    }

    /// The group's window stays while its incident is forgotten: the events it counted for the
    /// forgotten incident are in the re-created one's `count`, but not in its increment.
    @Test func aReCreatedIncidentCarriesOnlyTheEventsNotReportedBefore() {
        var e = DetectionEngine(
            rules: [rule(filter: #"procName = "nc""#, groupBy: "hostName, user")],
            configuration: EngineConfiguration(agentId: "a", maxIncidents: 1)
        )
        #expect(e.process(exec(at: 0, user: "alice")).map(\.countIncrement) == [1])
        #expect(e.process(exec(at: 1, user: "alice")).map(\.countIncrement) == [1])
        // bob's incident makes the engine forget alice's.
        #expect(e.process(exec(at: 2, user: "bob")).map(\.countIncrement) == [1])
        #expect(e.counters.incidentsForgotten == 1)
        let again = e.process(exec(at: 3, user: "alice"))
        #expect(again.map(\.kind) == [.created])
        #expect(again.first?.incident.version == 1)
        #expect(again.first?.incident.count == 3)
        #expect(again.map(\.countIncrement) == [1])
    }
}
