import ExecEvents
import RuleEngine
import Testing

@Suite struct EngineWindowTests {
    @Test func anEventExactlyOneWindowEarlierIsOutside() throws {
        var e = engine([rule(filter: #"procName = "nc""#, aggregate: "COUNT(*) >= 2", window: "300")])
        #expect(e.process(exec(at: 1000)).isEmpty)
        #expect(e.process(exec(at: 1300)).isEmpty)  // 1000 is exactly 300 s earlier: outside
        let updates = e.process(exec(at: 1300, ms: 1))  // 1300.000 is inside
        let update = try #require(updates.first)
        #expect(update.kind == .created)
        #expect(update.incident.count == 2)
        #expect(update.incident.firstSeen == EventTime(seconds: 1300))
        #expect(update.incident.lastSeen == EventTime(seconds: 1300, milliseconds: 1))
    }

    @Test func anEventOneMillisecondLaterThanTheEdgeIsInside() throws {
        var e = engine([rule(filter: #"procName = "nc""#, aggregate: "COUNT(*) >= 2", window: "300")])
        #expect(e.process(exec(at: 1000, ms: 1)).isEmpty)
        let update = try #require(e.process(exec(at: 1300)).first)
        #expect(update.incident.count == 2)
        #expect(update.incident.firstSeen == EventTime(seconds: 1000, milliseconds: 1))
    }

    @Test func thresholdTriggersAtTheThirdAndUpdatesCountOnlyNewEvents() throws {
        var e = engine([rule(filter: #"procName = "nc""#, aggregate: "COUNT(*) >= 3")])
        #expect(e.process(exec(at: 10)).isEmpty)
        #expect(e.process(exec(at: 11)).isEmpty)
        let created = try #require(e.process(exec(at: 12)).first)
        #expect(created.kind == .created)
        #expect(created.incident.count == 3)
        #expect(created.incident.version == 1)
        #expect(created.incident.firstSeen == EventTime(seconds: 10))
        #expect(created.incident.triggerEvents.map(\.eventTime) == [10, 11, 12].map { EventTime(seconds: $0) })
        let updated = try #require(e.process(exec(at: 13)).first)
        #expect(updated.kind == .updated)
        #expect(updated.incident.count == 4)
        #expect(updated.incident.version == 2)
        #expect(updated.incident.firstSeen == EventTime(seconds: 10))
        #expect(updated.incident.lastSeen == EventTime(seconds: 13))
        #expect(updated.incident.triggerEvents.count == 3)  // the first trigger's events stay
        #expect(e.incidents.count == 1)
    }

    @Test func afterTheWindowEmptiesTheThresholdMustBeMetAgain() throws {
        var e = engine([rule(filter: #"procName = "nc""#, aggregate: "COUNT(*) >= 2", window: "60")])
        _ = e.process(exec(at: 0))
        #expect(e.process(exec(at: 1)).first?.incident.count == 2)
        #expect(e.process(exec(at: 100)).isEmpty)  // alone in its window: nothing changes
        #expect(e.incidents.first?.count == 2)
        #expect(e.incidents.first?.version == 1)
        let update = try #require(e.process(exec(at: 101)).first)
        #expect(update.kind == .updated)
        #expect(update.incident.count == 4)  // both uncounted events of that window
        #expect(update.incident.version == 2)
        #expect(update.incident.lastSeen == EventTime(seconds: 101))
    }

    @Test func severalGroupsAtOnce() throws {
        var e = engine([rule(filter: #"procName = "nc""#, groupBy: "hostName, user", aggregate: "COUNT(*) >= 2")])
        #expect(e.process(exec(at: 0, user: "alice")).isEmpty)
        #expect(e.process(exec(at: 1, user: "bob")).isEmpty)
        #expect(e.process(exec(at: 2, host: "web-2", user: "alice")).isEmpty)
        let alice = try #require(e.process(exec(at: 3, user: "alice")).first)
        #expect(alice.incident.attributes.isEmpty == false)
        #expect(alice.incident.count == 2)
        let bob = try #require(e.process(exec(at: 4, user: "bob")).first)
        #expect(bob.kind == .created)
        #expect(bob.incident.incidentId != alice.incident.incidentId)
        let web2 = try #require(e.process(exec(at: 5, host: "web-2", user: "alice")).first)
        #expect(web2.kind == .created)
        #expect(web2.incident.hostName == "web-2")
        #expect(Set(e.incidents.map(\.incidentId)).count == 3)
        #expect(e.counters.groupsLive == 3)
    }

    @Test func hostNameIsAlwaysPartOfTheGroup() throws {
        var e = engine([rule(filter: #"procName = "nc""#, groupBy: "user")])
        let a = try #require(e.process(exec(at: 0, host: "a")).first)
        let b = try #require(e.process(exec(at: 0, host: "b")).first)
        #expect(a.kind == .created)
        #expect(b.kind == .created)
        #expect(a.incident.incidentId != b.incident.incidentId)
    }

    @Test func eventsSeenOutOfOrderUseTheirOwnWindow() throws {
        var e = engine([rule(filter: #"procName = "nc""#, aggregate: "COUNT(*) >= 2", window: "10")])
        #expect(e.process(exec(at: 100)).isEmpty)
        // An older event: its window (85, 95] does not contain the event at 100.
        #expect(e.process(exec(at: 95)).isEmpty)
        let update = try #require(e.process(exec(at: 96)).first)
        #expect(update.incident.count == 2)
        #expect(update.incident.firstSeen == EventTime(seconds: 95))
    }

    @Test func aClockStepBackByMoreThanAWindowRestartsTheGroupsWindow() throws {
        // The shipped netcat rule's shape: every event counts.
        var e = engine([rule(filter: #"procName = "nc""#, aggregate: "COUNT(*) >= 1", window: "300")])
        #expect(try #require(e.process(exec(at: 10_000)).first).kind == .created)
        // The clock steps back an hour: the group's next events still count at once.
        let back = try #require(e.process(exec(at: 10_000 - 3600)).first)
        #expect(back.kind == .updated && back.incident.count == 2 && back.countIncrement == 1)
        #expect(back.incident.firstSeen == EventTime(seconds: 10_000 - 3600))
        #expect(back.incident.lastSeen == EventTime(seconds: 10_000))  // never moves back
        let next = try #require(e.process(exec(at: 10_000 - 3599)).first)
        #expect(next.incident.count == 3 && next.incident.version == 3)
        // Forward a day: a window of its own, as any event after a quiet day.
        let forward = try #require(e.process(exec(at: 10_000 + 86_400)).first)
        #expect(forward.incident.count == 4 && forward.incident.lastSeen == EventTime(seconds: 10_000 + 86_400))
    }

    @Test func aThresholdAfterAClockStepBackCountsOnlyEventsAfterTheStep() throws {
        var e = engine([rule(filter: #"procName = "nc""#, aggregate: "COUNT(*) >= 2", window: "10")])
        #expect(e.process(exec(at: 5000)).isEmpty)
        #expect(try #require(e.process(exec(at: 5001)).first).incident.count == 2)
        // Back an hour: the events before the step are in no window with those after it.
        #expect(e.process(exec(at: 1400)).isEmpty)
        let update = try #require(e.process(exec(at: 1401)).first)
        #expect(update.kind == .updated && update.countIncrement == 2 && update.incident.count == 4)
    }

    @Test func countersCountEventsMatchesAndEvaluations() {
        var e = engine([rule(filter: #"user = "alice""#)])
        _ = e.process(exec(at: 0, user: "alice"))
        _ = e.process(exec(at: 1, user: "bob"))
        #expect(e.counters.eventsProcessed == 2)
        #expect(e.counters.filterEvaluations == 2)
        #expect(e.counters.matches == 1)
        #expect(e.counters.incidentsCreated == 1)
    }

    @Test func inactiveRulesDoNotRun() {
        let parsed = rules(ruleXML(filter: #"procName = "nc""#, active: "false"))
        #expect(parsed[0].isActive == false)
        var e = engine(parsed)
        #expect(e.process(exec(at: 0)).isEmpty)
        #expect(e.counters.filterEvaluations == 0)
    }
}
