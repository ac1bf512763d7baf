import ExecEvents
import RuleEngine
import TestSupport
import Testing

@testable import Journal

/// The engine forgets incidents (``RuleEngine/EngineConfiguration/maxIncidents``, restarts); the
/// journal does not: every change it is given is stored and enqueued at its next version, with
/// the count grown by the events the change counted.
@Suite("The journal owns versions and counts")
struct VersionOwnershipTests {
    private static let start = EventTime(millisecondsSinceEpoch: 1_795_860_000_000)

    private static func netcat(_ user: String, at seconds: Int64) -> ExecEvent {
        ExecEvent(
            eventTime: start.adding(seconds: seconds),
            hostName: "web-1",
            user: user,
            procName: "nc",
            swParam: "-lvp 4444",
            args: [Array("nc".utf8), Array("-lvp".utf8), Array("4444".utf8)]
        )
    }

    private static func engine(maxIncidents: Int, forgetsClosedGroups: Bool = false) throws -> DetectionEngine {
        let loaded = RuleLoader.load(paths: [shippedNetcatRule()])
        #expect(loaded.errors.isEmpty)
        return DetectionEngine(
            rules: loaded.rules,
            configuration: EngineConfiguration(
                agentId: "web-1",
                maxIncidents: maxIncidents,
                forgetsClosedGroups: forgetsClosedGroups
            )
        )
    }

    @Test func anEngineThatRemembersOneIncidentLosesNoUpdateOfTwo() async throws {
        var engine = try Self.engine(maxIncidents: 1)
        let directory = try TemporaryDirectory()
        let alice = Self.netcat("alice", at: 0)
        let bob = Self.netcat("bob", at: 0)
        try await IncidentJournal.with(directory.path) { journal in
            var storedVersions: [String: [Int64]] = [:]
            var storedCounts: [String: [Int64]] = [:]
            for round in Int64(0)..<4 {
                for event in [alice.advanced(by: round * 10), bob.advanced(by: round * 10 + 1)] {
                    let updates = engine.process(event)
                    // The engine remembers one incident: the other is always created again, at version 1.
                    #expect(updates.map(\.incident.version) == [1])
                    for stored in try await journal.store(updates) {
                        storedVersions[event.user ?? "", default: []].append(stored.incident.version)
                        storedCounts[event.user ?? "", default: []].append(stored.incident.count)
                    }
                }
            }
            #expect(engine.counters.incidentsForgotten >= 6)
            #expect(storedVersions == ["alice": [1, 2, 3, 4], "bob": [1, 2, 3, 4]])
            #expect(storedCounts == ["alice": [1, 2, 3, 4], "bob": [1, 2, 3, 4]])

            let rows = try await journal.incidents()
            #expect(rows.map(\.version) == [4, 4])
            #expect(rows.map(\.count) == [4, 4])
            for row in rows {
                let incident = try row.incident()
                #expect(incident.version == 4)
                #expect(incident.count == 4)
                #expect(
                    incident.firstSeen
                        == Self.start.adding(seconds: incident.attribute("user") == .string("bob") ? 1 : 0)
                )
            }
            // One outbox row per change, each with the journal's version in its row and its JSON.
            let outbox = try await journal.pendingOutbox(limit: 100)
            #expect(outbox.count == 8)
            for id in Set(outbox.map(\.incidentId)) {
                let rowsOfIncident = outbox.filter { $0.incidentId == id }
                #expect(rowsOfIncident.map(\.version) == [1, 2, 3, 4])
                #expect(rowsOfIncident.map(\.kind) == [.created, .updated, .updated, .updated])
                let sent = try rowsOfIncident.map { row throws(IncidentJSONError) in try Incident(jsonText: row.json) }
                #expect(sent.map(\.version) == [1, 2, 3, 4])
                #expect(sent.map(\.count) == [1, 2, 3, 4])
            }
        }
    }

    @Test func afterARestartWithMoreIncidentsThanTheEngineKeepsUpdatesContinueTheJournal() async throws {
        let directory = try TemporaryDirectory()
        let users = ["alice", "bob", "carol"]
        // Before: three incidents, three changes each.
        var before = try Self.engine(maxIncidents: 10)
        try await IncidentJournal.with(directory.path) { journal in
            for round in Int64(0)..<3 {
                for (k, user) in users.enumerated() {
                    try await journal.store(before.process(Self.netcat(user, at: round * 10 + Int64(k))))
                }
            }
        }

        // After the restart the engine takes back only the most recent incident.
        var after = try Self.engine(maxIncidents: 1)
        try await IncidentJournal.with(directory.path) { journal in
            for incident in try await journal.restorableIncidents() { after.restore(incident) }
            #expect(after.incidents.map { $0.attribute("user") } == [.string("carol")])
            for (k, user) in users.enumerated() {
                let updates = after.process(Self.netcat(user, at: 100 + Int64(k)))
                let stored = try await journal.store(updates)
                #expect(stored.map(\.kind) == [.updated], "\(user)")
                #expect(stored.map(\.incident.version) == [4], "\(user)")
                #expect(stored.map(\.incident.count) == [4], "\(user)")
                #expect(stored.map(\.incident.firstSeen) == [Self.start.adding(seconds: Int64(k))], "\(user)")
                #expect(stored.map(\.incident.lastSeen) == [Self.start.adding(seconds: 100 + Int64(k))], "\(user)")
            }
            #expect(try await journal.incidents().map(\.version) == [4, 4, 4])
            let outbox = try await journal.pendingOutbox(limit: 100)
            #expect(outbox.count == 12)
            #expect(outbox.suffix(3).map(\.version) == [4, 4, 4])
            #expect(outbox.suffix(3).map(\.kind) == [.updated, .updated, .updated])
        }
    }

    /// The agent's engine forgets a group and its incident once the rule's window (300 s) and
    /// the margin have passed since its last event; the journal continues the incident.
    @Test func anIncidentTheEngineForgotWhenItClosedContinuesInTheJournal() async throws {
        var engine = try Self.engine(maxIncidents: 10, forgetsClosedGroups: true)
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            try await journal.store(engine.process(Self.netcat("alice", at: 0)))
            try await journal.store(engine.process(Self.netcat("alice", at: 1)))
            let alice = try #require(engine.incidents.first)
            // bob, a window and the margin after alice's last event: alice's group has closed.
            let closedAt = 1 + 300 + EngineConfiguration.closedMarginMilliseconds / 1000 + 1
            try await journal.store(engine.process(Self.netcat("bob", at: closedAt)))
            #expect(engine.incident(id: alice.incidentId) == nil)
            #expect(engine.incidents.map { $0.attribute("user") } == [.string("bob")])
            #expect(engine.counters.groupsLive == 1)
            #expect(engine.counters.groupsClosed == 1)
            #expect(engine.counters.incidentsClosed == 1)

            let again = engine.process(Self.netcat("alice", at: closedAt + 10))
            #expect(again.map(\.kind) == [.created])  // the engine starts it over…
            #expect(again.map(\.incident.version) == [1])
            let stored = try await journal.store(again)  // …the journal continues it
            #expect(stored.map(\.kind) == [.updated])
            #expect(stored.map(\.incident.incidentId) == [alice.incidentId])
            #expect(stored.map(\.incident.version) == [3])
            #expect(stored.map(\.incident.count) == [3])
            #expect(stored.map(\.incident.firstSeen) == [Self.start])
            let outbox = try await journal.pendingOutbox(limit: 100).filter { $0.incidentId == alice.incidentId }
            #expect(outbox.map(\.version) == [1, 2, 3])
        }
    }
}
