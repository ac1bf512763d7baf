import ExecEvents
import RuleEngine
import TestSupport
import Testing

@testable import Journal

@Suite("Storing incidents and the outbox")
struct IncidentStoreTests {
    @Test func enqueuesEveryChangeAtTheNextVersion() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            for version in Int64(1)...3 { try await journal.store(Sample.update(version: version)) }

            let stored = try await journal.incidents()
            #expect(stored.count == 1)
            #expect(stored.first?.version == 3)
            #expect(stored.first?.count == 3)
            #expect(stored.first?.json == Sample.update(version: 3).incident.jsonLine)

            let outbox = try await journal.pendingOutbox(limit: 100)
            #expect(outbox.map(\.version) == [1, 2, 3])
            #expect(outbox.map(\.kind) == [.created, .updated, .updated])
            #expect(outbox.map(\.seq) == outbox.map(\.seq).sorted())
            #expect(outbox.map(\.json) == (1...3).map { Sample.update(version: $0).incident.jsonLine })
            #expect(outbox.allSatisfy { $0.incidentId == Sample.incident().incidentId })
            #expect(try await journal.outboxDepth() == 3)
        }
    }

    /// The rule's author and source (Sigma rules) are kept in the journal and in what is forwarded.
    @Test func keepsTheRulesAuthorAndSource() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            var update = Sample.update(version: 1)
            update.incident.ruleAuthor = "Jane Doe"
            update.incident.ruleSource = "https://example.org/rules/r.yml"
            try await journal.store(update)
            let row = try #require(try await journal.incidents().first)
            let kept = try Incident(jsonText: row.json)
            #expect(kept.ruleAuthor == "Jane Doe")
            #expect(kept.ruleSource == "https://example.org/rules/r.yml")
            let sent = try #require(try await journal.pendingOutbox(limit: 1).first)
            #expect(try Incident(jsonText: sent.json) == kept)
        }
    }

    /// An engine that forgot the incident (or restarted) reports it at a version the journal has
    /// passed: the journal stores it on top of what it holds all the same.
    @Test func aChangeAtAnOlderVersionIsStoredOnTopOfTheStoredOne() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            for version in Int64(1)...3 { try await journal.store(Sample.update(version: version)) }
            var late = Sample.update(version: 2, lastSeenOffset: 100)
            late.countIncrement = 4
            let stored = try await journal.store(late)
            #expect(stored.kind == .updated)
            #expect(stored.incident.version == 4)
            #expect(stored.incident.count == 3 + 4)
            #expect(stored.incident.lastSeen == Sample.firstSeen.adding(seconds: 100))
            #expect(stored.countIncrement == 4)

            let row = try #require(try await journal.incidents().first)
            #expect(row.version == 4)
            #expect(row.count == 7)
            #expect(row.json == stored.incident.jsonLine)
            let outbox = try await journal.pendingOutbox(limit: 100)
            #expect(outbox.map(\.version) == [1, 2, 3, 4])
            #expect(outbox.last?.kind == .updated)
            #expect(outbox.last?.json == stored.incident.jsonLine)
            let fromJSON = try Incident(jsonText: row.json)
            #expect(fromJSON.version == 4)
            #expect(fromJSON.count == 7)
        }
    }

    /// The engine created again an incident it had forgotten: a new first event, later trigger
    /// events, version 1. The journal keeps the incident's first sighting and its trigger events.
    @Test func aReCreatedIncidentKeepsItsFirstSightingAndTriggerEvents() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            let first = Sample.update(version: 1)
            try await journal.store(first)
            var again = Sample.incident(count: 2, version: 1, lastSeenOffset: 600)
            again.firstSeen = Sample.firstSeen.adding(seconds: 590)
            again.triggerEvents = Array(again.triggerEvents.suffix(1))
            again.attributes.removeLast()
            let stored = try await journal.store(IncidentUpdate(kind: .created, incident: again, countIncrement: 2))
            #expect(stored.kind == .updated)
            #expect(stored.incident.version == 2)
            #expect(stored.incident.count == 3)
            #expect(stored.incident.firstSeen == Sample.firstSeen)
            #expect(stored.incident.lastSeen == Sample.firstSeen.adding(seconds: 600))
            #expect(stored.incident.triggerEvents == first.incident.triggerEvents)
            #expect(stored.incident.attributes == first.incident.attributes)
            #expect(try await journal.pendingOutbox(limit: 10).map(\.kind) == [.created, .updated])
        }
    }

    /// A journal that does not hold the incident (e.g. its creation was dropped before it was
    /// stored) starts it at version 1, with the engine's count.
    @Test func anUpdateOfAnIncidentNotHeldIsStoredAsItsCreation() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            let stored = try await journal.store(Sample.update(version: 5))
            #expect(stored.kind == .created)
            #expect(stored.incident.version == 1)
            #expect(stored.incident.count == 5)
            let outbox = try await journal.pendingOutbox(limit: 10)
            #expect(outbox.map(\.kind) == [.created])
            #expect(outbox.map(\.version) == [1])
        }
    }

    @Test func aBatchIsStoredInOrder() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            try await journal.store([
                Sample.update(group: "alice", version: 1),
                Sample.update(group: "bob", version: 1),
                Sample.update(group: "alice", version: 2),
            ])
            let outbox = try await journal.pendingOutbox(limit: 10)
            #expect(
                outbox.map(\.incidentId) == ["alice", "bob", "alice"].map { Sample.incident(group: $0).incidentId }
            )
            #expect(outbox.map(\.kind) == [.created, .created, .updated])
            let versions = try await journal.incidents().map { ($0.incidentId, $0.version) }
            #expect(versions.count == 2)
            #expect(versions.contains { $0 == (Sample.incident(group: "alice").incidentId, 2) })
            #expect(versions.contains { $0 == (Sample.incident(group: "bob").incidentId, 1) })
        }
    }

    @Test func acknowledgingRemovesExactlyWhatWasAcknowledged() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            for version in Int64(1)...5 { try await journal.store(Sample.update(version: version)) }
            let seqs = try await journal.pendingOutbox(limit: 10).map(\.seq)
            #expect(seqs.count == 5)

            #expect(try await journal.acknowledge(seqs: [seqs[1], seqs[3], 999_999]) == 2)
            #expect(try await journal.pendingOutbox(limit: 10).map(\.seq) == [seqs[0], seqs[2], seqs[4]])
            #expect(try await journal.outboxDepth() == 3)

            #expect(try await journal.acknowledge(upTo: seqs[2]) == 2)
            #expect(try await journal.pendingOutbox(limit: 10).map(\.seq) == [seqs[4]])
            #expect(try await journal.acknowledge(upTo: seqs[2]) == 0)

            // Reading ahead, and a limit.
            #expect(try await journal.pendingOutbox(after: seqs[4], limit: 10).isEmpty)
            #expect(try await journal.pendingOutbox(limit: 0).isEmpty)

            // Sequence numbers are never reused, even once the outbox was empty.
            #expect(try await journal.acknowledge(upTo: seqs[4]) == 1)
            #expect(try await journal.outboxDepth() == 0)
            try await journal.store(Sample.update(version: 6))
            let next = try await journal.pendingOutbox(limit: 10)
            #expect(next.count == 1)
            #expect(next.first.map { $0.seq > seqs[4] } == true)
            // The incidents themselves stay.
            #expect(try await journal.incidents().first?.version == 6)
        }
    }

    @Test func trimmingDropsTheOldestUpdatesBeforeAnyFirstOccurrence() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            try await journal.store([
                Sample.update(group: "a", version: 1),
                Sample.update(group: "a", version: 2),
                Sample.update(group: "b", version: 1),
                Sample.update(group: "a", version: 3),
                Sample.update(group: "b", version: 2),
            ])
            #expect(try await journal.trimOutbox(toAtMost: 5) == OutboxTrim())
            #expect(try await journal.trimOutbox(toAtMost: 3) == OutboxTrim(droppedUpdates: 2))
            let left = try await journal.pendingOutbox(limit: 10)
            #expect(left.map(\.kind) == [.created, .created, .updated])
            #expect(left.last?.version == 2)
            #expect(try await journal.trimOutbox(toAtMost: 1) == OutboxTrim(droppedUpdates: 1, droppedCreations: 1))
            let last = try await journal.pendingOutbox(limit: 10)
            #expect(last.map(\.kind) == [.created])
            #expect(last.first?.incidentId == Sample.incident(group: "b").incidentId)
        }
    }

    @Test func concurrentStoresAreAllKeptOnce() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask { try await journal.store(Sample.update(group: "user\(index)", version: 1)) }
                }
                try await group.waitForAll()
            }
            #expect(try await journal.incidents().count == 20)
            #expect(try await journal.outboxDepth() == 20)
        }
    }

    @Test func aClosedJournalRefusesWork() async throws {
        let directory = try TemporaryDirectory()
        let journal = try await IncidentJournal.open(stateDirectory: directory.path)
        try await journal.close()
        try await journal.close()
        await #expect(throws: JournalError.self) { try await journal.store(Sample.update(version: 1)) }
        await #expect(throws: JournalError.self) { try await journal.outboxDepth() }
    }
}
