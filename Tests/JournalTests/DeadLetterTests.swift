import ExecEvents
import RuleEngine
import TestSupport
import Testing

@testable import Journal

@Suite("Changes the collector refused are kept as dead letters")
struct DeadLetterTests {
    @Test func refusedRowsMoveOutOfTheOutboxAndAreKept() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            try await journal.store([
                Sample.update(group: "alice", version: 1),
                Sample.update(group: "mallory", version: 1),
                Sample.update(group: "mallory", version: 2),
                Sample.update(group: "bob", version: 1),
            ])
            let outbox = try await journal.pendingOutbox(limit: 10)
            let mallory = outbox.filter { $0.incidentId == Sample.incident(group: "mallory").incidentId }
            #expect(mallory.count == 2)

            let moved = try await journal.deadLetter(
                seqs: mallory.map(\.seq) + [999_999],
                status: 400,
                reason: "400 Bad Request: unknown field \"ruleAuthor\""
            )
            #expect(moved == 2)
            #expect(try await journal.outboxDepth() == 2)
            #expect(
                try await journal.pendingOutbox(limit: 10).map(\.incidentId)
                    == ["alice", "bob"].map {
                        Sample.incident(group: $0).incidentId
                    }
            )
            #expect(try await journal.deadLetterCount() == 2)

            let kept = try await journal.deadLetters()
            // Most recently refused first; refused together: the later row first.
            #expect(kept.map(\.seq) == mallory.map(\.seq).reversed())
            for (letter, row) in zip(kept, mallory.reversed()) {
                #expect(letter.incidentId == row.incidentId)
                #expect(letter.version == row.version)
                #expect(letter.kind == row.kind)
                #expect(letter.json == row.json)
                #expect(letter.enqueuedAt == row.enqueuedAt)
                #expect(letter.ruleId == "PH_Rule_TH_Linux_23")
                #expect(letter.status == 400)
                #expect(letter.reason == "400 Bad Request: unknown field \"ruleAuthor\"")
            }
            // The incident itself stays in the journal.
            #expect(try await journal.incidents().count == 3)
            // Moving rows that are gone already moves nothing.
            #expect(try await journal.deadLetter(seqs: mallory.map(\.seq), status: 400, reason: "again") == 0)
            #expect(try await journal.deadLetterCount() == 2)
        }
    }

    @Test func deadLettersAreFilteredByTimeRuleAndLimit() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            try await journal.store([
                Sample.update(group: "a", version: 1),
                Sample.update(group: "b", ruleId: "PH_Rule_TH_Linux_24", version: 1),
            ])
            let seqs = try await journal.pendingOutbox(limit: 10).map(\.seq)
            try await journal.deadLetter(seqs: [seqs[0]], status: 422, reason: "first")
            try await journal.deadLetter(seqs: [seqs[1]], status: 413, reason: "second")
            #expect(try await journal.deadLetters().map(\.reason) == ["second", "first"])
            #expect(try await journal.deadLetters(limit: 1).map(\.reason) == ["second"])
            #expect(try await journal.deadLetters(ruleId: "PH_Rule_TH_Linux_24").map(\.reason) == ["second"])
            #expect(try await journal.deadLetters(since: EventTime.now.adding(seconds: 60)).isEmpty)
            #expect(try await journal.deadLetters(since: EventTime.now.adding(seconds: -60)).count == 2)
        }
    }

    @Test func aReaderSeesThemAndCannotMoveRows() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            try await journal.store(Sample.update(version: 1))
            let seq = try #require(try await journal.pendingOutbox(limit: 1).first?.seq)
            try await journal.deadLetter(seqs: [seq], status: 415, reason: "415 Unsupported Media Type")
        }
        try await IncidentJournal.with(directory.path, mode: .readOnly) { (reader) async throws in
            #expect(try await reader.deadLetterCount() == 1)
            #expect(try await reader.deadLetters().map(\.status) == [415])
            await #expect(throws: JournalError.self) {
                try await reader.deadLetter(seqs: [1], status: 400, reason: "no")
            }
        }
    }

    @Test func aJournalOfTheFirstSchemaGetsTheDeadLetterTableAndKeepsItsRows() async throws {
        let directory = try TemporaryDirectory()
        try await IncidentJournal.with(directory.path) { journal in
            try await journal.store(Sample.update(version: 1))
            // As the previous execwatch left it: schema version 1, no dead-letter table.
            _ = try await journal.firstValue(of: "DROP TABLE deadLetters")
            _ = try await journal.firstValue(of: "DELETE FROM schemaVersion WHERE version = 2 RETURNING version")
        }
        await #expect(throws: JournalError.self) {
            try await IncidentJournal.open(stateDirectory: directory.path, mode: .readOnly)
        }
        try await IncidentJournal.with(directory.path) { (journal) async throws in
            #expect(try await journal.firstValue(of: "SELECT group_concat(version) FROM schemaVersion") == "1,2")
            #expect(try await journal.deadLetterCount() == 0)
            #expect(try await journal.outboxDepth() == 1)
            #expect(try await journal.incidents().count == 1)
        }
    }

    @Test func aDeadLetterAsJSONCarriesTheRefusedIncidentAsStored() throws {
        let incident = Sample.incident()
        let letter = DeadLetter(
            seq: 7,
            incidentId: incident.incidentId,
            ruleId: incident.ruleId,
            version: 1,
            kind: .created,
            json: incident.jsonLine,
            enqueuedAt: Sample.firstSeen,
            status: 422,
            reason: "422 Unprocessable Content: \"quoted\"",
            refusedAt: Sample.firstSeen.adding(seconds: 1)
        )
        let json = try JSONValue.parse(letter.jsonLine)
        #expect(json["incidentId"] == .string(incident.incidentId.description))
        #expect(json["status"] == .integer(422))
        #expect(json["reason"] == .string("422 Unprocessable Content: \"quoted\""))
        #expect(json["refusedAt"] == .string(Sample.firstSeen.adding(seconds: 1).rfc3339))
        #expect(json["kind"] == .string("created"))
        let sent = try Incident(json: try #require(json["incident"]))
        #expect(sent == incident)
    }
}
