import ExecEvents
import Journal
import Logging
import RuleEngine
import TestSupport
import Testing

@testable import Agent

/// `execwatch status` and `/metrics` count the changes the collector refused: all those the
/// journal keeps, also after a restart.
@Suite("Dead letters in the agent's status")
struct DeadLetterStatusTests {
    @Test func aRefusedChangeIsCountedNowAndAfterARestart() async throws {
        let directory = try TemporaryDirectory()
        let journal = try await IncidentJournal.open(stateDirectory: directory.path)
        let writer = JournalWriter(capacity: 10, dropped: {})
        for n in 0..<3 { writer.offer(JournalWriterTests.update(n)) }
        writer.finish()
        await writer.run(store: journal, logger: Logger(label: "test"))
        #expect(writer.stored.current == 3)
        #expect(writer.outboxDepth.current == 3)
        #expect(writer.deadLettered.current == 0)

        // What the forwarder does with a refused incident, through the agent's outbox.
        let outbox = ForwardingOutbox(outbox: journal, store: journal, writer: writer)
        let refused = try await journal.pendingOutbox(limit: 10)[1]
        #expect(try await outbox.deadLetter(seqs: [refused.seq], status: 422, reason: "422 Unprocessable Content") == 1)
        #expect(writer.deadLettered.current == 1)
        #expect(writer.outboxDepth.current == 2)
        try await journal.close()

        // A restart: the count comes from the journal.
        let reopened = try await IncidentJournal.open(stateDirectory: directory.path)
        let next = JournalWriter(capacity: 10, dropped: {})
        next.finish()
        await next.run(store: reopened, logger: Logger(label: "test"))
        try await reopened.close()
        #expect(next.deadLettered.current == 1)

        let status = AgentStatus.sample(
            outboxDepth: next.outboxDepth.current,
            deadLettered: next.deadLettered.current
        )
        let json = try JSONValue.parse(bytes: status.json)
        #expect(json["deadLettered"] == .integer(1))
        #expect(json["outboxDepth"] == .integer(2))
        #expect(MetricsServer.exposition(status).contains("\nexecwatch_dead_lettered 1\n"))
    }
}
