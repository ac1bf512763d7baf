import ExecEvents
import RuleEngine
import Testing

@Suite struct EngineMemoryTests {
    @Test func groupCapEvictsTheLeastRecentlyUsedGroupAndItsIncidentContinues() throws {
        var e = engine([rule(filter: #"procName = "nc""#, groupBy: "hostName, user")], maxLiveGroups: 2)
        let a1 = try #require(e.process(exec(at: 0, user: "a")).first)
        _ = e.process(exec(at: 1, user: "b"))
        _ = e.process(exec(at: 2, user: "a"))  // a is now more recent than b
        #expect(e.counters.groupsEvicted == 0)
        _ = e.process(exec(at: 3, user: "c"))  // evicts b
        #expect(e.counters.groupsEvicted == 1)
        #expect(e.counters.groupsLive == 2)
        _ = e.process(exec(at: 4, user: "a"))  // a was kept: no eviction
        #expect(e.counters.groupsEvicted == 1)
        let b = try #require(e.process(exec(at: 5, user: "b")).first)  // b comes back, evicts c
        #expect(e.counters.groupsEvicted == 2)
        #expect(b.kind == .updated)  // its incident was kept apart from the window
        #expect(b.incident.count == 2)
        #expect(b.incident.version == 2)
        #expect(b.incident.firstSeen == EventTime(seconds: 1))
        #expect(a1.incident.incidentId != b.incident.incidentId)
        #expect(e.incidents.count == 3)
    }

    @Test func restoredIncidentsContinueAfterARestart() throws {
        let r = rule(filter: #"procName = "nc""#)
        var before = engine([r])
        _ = before.process(exec(at: 0))
        let known = try #require(before.process(exec(at: 1)).first?.incident)
        #expect(known.version == 2)

        var after = engine([r])
        after.restore(known)
        let update = try #require(after.process(exec(at: 5)).first)
        #expect(update.kind == .updated)
        #expect(update.incident.incidentId == known.incidentId)
        #expect(update.incident.count == 3)
        #expect(update.incident.version == 3)
    }

    @Test func oldWindowEntriesAreDropped() throws {
        var e = engine([rule(filter: #"procName = "nc""#, aggregate: "COUNT(*) >= 3", window: "10")])
        for t in 0..<100 { _ = e.process(exec(at: Int64(t) * 20)) }  // never 3 within 10 s
        #expect(e.incidents.isEmpty)
        #expect(e.counters.groupsLive == 1)
    }
}

@Suite struct EngineCapTests {
    @Test func perGroupEntryCapDropsTheOldestEntries() {
        let configuration = EngineConfiguration(agentId: "a", maxEventsPerGroup: 3)
        var e = DetectionEngine(
            rules: [rule(filter: #"procName = "nc""#, aggregate: "COUNT(*) >= 4")],
            configuration: configuration
        )
        for t in 0..<6 { #expect(e.process(exec(at: Int64(t))).isEmpty) }  // never more than 3 kept
        #expect(e.counters.windowEntriesDropped == 3)
    }

    @Test func incidentCapForgetsTheLeastRecentlyChangedIncident() throws {
        let configuration = EngineConfiguration(agentId: "a", maxIncidents: 2)
        var e = DetectionEngine(
            rules: [rule(filter: #"procName = "nc""#, groupBy: "hostName, user")],
            configuration: configuration
        )
        _ = e.process(exec(at: 0, user: "a"))
        _ = e.process(exec(at: 1, user: "b"))
        _ = e.process(exec(at: 2, user: "c"))
        #expect(e.counters.incidentsForgotten == 1)
        #expect(e.incidents.compactMap { $0.attribute("hostName") }.count == 2)
        #expect(e.incidents.map(\.firstSeen) == [EventTime(seconds: 1), EventTime(seconds: 2)])
    }
}

@Suite struct EngineLateEventTests {
    @Test func anEventMoreThanAWindowLateIsIgnored() {
        var e = engine([rule(filter: #"procName = "nc""#, aggregate: "COUNT(*) < 5", window: "10")])
        #expect(e.process(exec(at: 100)).first?.kind == .created)
        // 50 is more than 10 s older than the group's newest event: dropped, nothing triggers.
        #expect(e.process(exec(at: 50)).isEmpty)
        #expect(e.incidents.first?.count == 1)
    }
}
