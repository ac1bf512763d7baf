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

/// The agent's engine (``EngineConfiguration/forgetsClosedGroups``) holds nothing for groups
/// whose window closed: memory follows the open groups, not the groups ever seen.
@Suite struct EngineClosedGroupTests {
    private static let window: Int64 = 10
    private static let margin = EngineConfiguration.closedMarginMilliseconds / 1000

    private static func engine(forgetsClosedGroups: Bool) -> DetectionEngine {
        DetectionEngine(
            rules: [rule(filter: #"procName = "nc""#, groupBy: "hostName, user", window: "\(window)")],
            configuration: EngineConfiguration(agentId: "a", forgetsClosedGroups: forgetsClosedGroups)
        )
    }

    @Test func closedGroupsAndTheirIncidentsAreForgottenAndBytesGoBack() throws {
        var e = Self.engine(forgetsClosedGroups: true)
        for k in 0..<100 { _ = e.process(exec(at: Int64(k % 5), user: "user-\(k)")) }
        #expect(e.counters.groupsLive == 100)
        #expect(e.incidents.count == 100)
        // One event after every window, plus the margin, closed: only its own group is left.
        let late = exec(at: 4 + Self.window + Self.margin + 1, user: "late")
        _ = e.process(late)
        #expect(e.counters.groupsLive == 1)
        #expect(e.counters.groupsClosed == 100)
        #expect(e.counters.incidentsClosed == 100)
        #expect(e.incidents.map(\.lastSeen) == [late.eventTime])
        var fresh = Self.engine(forgetsClosedGroups: true)
        _ = fresh.process(late)
        // What an engine that saw only that event holds (give or take an allocation's rounding),
        // not the 100 closed groups' (about 100 times as much).
        #expect(e.counters.bytesHeld < fresh.counters.bytesHeld * 11 / 10)
        // A group seen again starts over in the engine (the journal continues it).
        let again = try #require(e.process(exec(at: 4 + Self.window + Self.margin + 2, user: "user-0")).first)
        #expect(again.kind == .created)
        #expect(again.incident.version == 1)
    }

    @Test func aGroupWithinItsWindowAndTheMarginIsKept() throws {
        var e = Self.engine(forgetsClosedGroups: true)
        _ = e.process(exec(at: 0, user: "a"))
        _ = e.process(exec(at: Self.window + Self.margin, user: "b"))  // a: exactly window + margin old
        #expect(e.counters.groupsLive == 2)
        #expect(e.counters.groupsClosed == 0)
        let update = try #require(e.process(exec(at: Self.window + Self.margin, user: "a")).first)
        #expect(update.kind == .updated)
        #expect(update.incident.version == 2)
    }

    @Test func withoutTheSettingNothingIsForgotten() {
        // replay and rules test print the engine's incidents at the end: all of them.
        var e = Self.engine(forgetsClosedGroups: false)
        for k in 0..<10 { _ = e.process(exec(at: Int64(k) * 1000, user: "user-\(k)")) }
        #expect(e.counters.groupsLive == 10)
        #expect(e.incidents.count == 10)
        #expect(e.counters.groupsClosed == 0)
        #expect(e.counters.incidentsClosed == 0)
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
    @Test func anEventMoreThanAWindowLateRestartsTheWindowAndCountsOnce() throws {
        var e = engine([rule(filter: #"procName = "nc""#, aggregate: "COUNT(*) < 5", window: "10")])
        #expect(e.process(exec(at: 100)).first?.kind == .created)
        // 50 is more than 10 s older than the group's newest event: the clock stepped back, the
        // window restarts at 50 (see GroupWindow), and the event counts once, in its own window.
        let update = try #require(e.process(exec(at: 50)).first)
        #expect(update.kind == .updated && update.countIncrement == 1)
        #expect(e.incidents.first?.count == 2)
        #expect(e.incidents.first?.lastSeen == EventTime(seconds: 100))
    }
}

@Suite struct EngineByteBudgetTests {
    static let argumentBytes = 100 << 10

    /// An exec of `/bin/true` with one argument of 100 KiB, distinct for each `n`.
    static func bigExec(_ n: Int, at milliseconds: Int64) -> ExecEvent {
        var argument = [UInt8](repeating: UInt8(ascii: "x"), count: argumentBytes)
        for (k, digit) in String(n).utf8.enumerated() { argument[k] = digit }
        var event = exec(at: 0, ms: milliseconds, proc: "true", args: String(decoding: argument, as: UTF8.self))
        event.args = [Array("/bin/true".utf8), argument]
        return event
    }

    static func swParamRule() -> Rule {
        rule(filter: #"procName = "true""#, groupBy: "hostName, swParam", aggregate: "COUNT(*) >= 5")
    }

    @Test func distinctBigGroupsStayWithinTheBudgetAndEvictionsAreCounted() {
        let budget = 4 << 20
        var e = DetectionEngine(
            rules: [Self.swParamRule()],
            configuration: EngineConfiguration(agentId: "a", maxBytes: budget)
        )
        var largest = 0
        for n in 0..<600 {
            #expect(e.process(Self.bigExec(n, at: Int64(n))).isEmpty)
            largest = max(largest, e.counters.bytesHeld)
            #expect(e.counters.bytesHeld <= budget)
        }
        // Each group holds its key and one remembered event (swParam and argv): at least 300 KiB
        // as counted, so about a dozen groups fit in 4 MiB; the rest were evicted and counted.
        #expect(largest > budget * 3 / 4)
        #expect(e.counters.groupsLive < 20)
        #expect(e.counters.groupsEvicted == UInt64(600 - e.counters.groupsLive))
        #expect(e.counters.bytesEvicted >= e.counters.groupsEvicted * UInt64(3 * Self.argumentBytes))
    }

    @Test func aHotGroupStillFiresUnderAFloodOfBigGroups() throws {
        var e = DetectionEngine(
            rules: [Self.swParamRule()],
            configuration: EngineConfiguration(agentId: "a", maxBytes: 4 << 20)
        )
        var created: [IncidentUpdate] = []
        for n in 0..<500 {
            // One event of the hot group after every 4 of the flood; about a dozen big groups fit.
            let hot = n % 5 == 4
            let event = hot ? exec(at: 0, ms: Int64(n), proc: "true", args: "hot") : Self.bigExec(n, at: Int64(n))
            created += e.process(event)
        }
        #expect(e.counters.groupsEvicted > 350)
        let update = try #require(created.first)
        #expect(created.count == 96)  // created at its 5th event, then updated by each of the other 95
        #expect(update.kind == .created)
        #expect(update.incident.attribute("hostName") == .string("web-1"))
        #expect(update.incident.count == 5)
        #expect(update.incident.triggerEvents.count == 5)
        #expect(update.incident.triggerEvents.allSatisfy { $0.swParam == "hot" })
    }

    @Test func incidentsTakeAtMostHalfTheBudgetAndCarryCompleteTriggerEvents() throws {
        let budget = 4 << 20
        var e = DetectionEngine(
            rules: [rule(filter: #"procName = "true""#, groupBy: "hostName, swParam")],
            configuration: EngineConfiguration(agentId: "a", maxBytes: budget)
        )
        for n in 0..<200 {
            let update = try #require(e.process(Self.bigExec(n, at: Int64(n))).first)
            #expect(update.kind == .created)
            #expect(update.incident.triggerEvents.first?.args?.last?.count == Self.argumentBytes)
            #expect(update.incident.triggerEvents.first?.swParam?.utf8.count == Self.argumentBytes)
            #expect(e.counters.bytesHeld <= budget)
        }
        #expect(e.counters.incidentsForgotten > 150)
        #expect(e.incidents.count < 20)
        #expect(e.incidents.reduce(0) { $0 + $1.footprintBytes } <= budget / 2)
    }

    @Test func restoredIncidentsCountInTheBudget() {
        let budget = 2 << 20
        var e = DetectionEngine(
            rules: [Self.swParamRule()],
            configuration: EngineConfiguration(agentId: "a", maxBytes: budget)
        )
        var source = DetectionEngine(
            rules: [rule(filter: #"procName = "true""#, groupBy: "hostName, swParam")],
            configuration: EngineConfiguration(agentId: "a", maxBytes: 1 << 30)
        )
        for n in 0..<50 {
            for update in source.process(Self.bigExec(n, at: Int64(n))) { e.restore(update.incident) }
            #expect(e.counters.bytesHeld <= budget / 2)
        }
        #expect(e.counters.incidentsForgotten > 40)
    }

    @Test func footprintCountsTextAndArgumentsOfAnEvent() {
        let small = exec(at: 0)
        let big = Self.bigExec(1, at: 0)
        // swParam and the argument: 200 KiB, plus a little per allocation.
        #expect(big.footprintBytes - small.footprintBytes >= 2 * Self.argumentBytes)
        #expect(big.footprintBytes - small.footprintBytes < 2 * Self.argumentBytes + 1024)
    }
}
