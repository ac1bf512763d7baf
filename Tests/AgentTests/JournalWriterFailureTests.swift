import Capture
import Logging
import RuleEngine
import Synchronization
import TestSupport
import Testing

@testable import Agent

/// A state directory that cannot be written (full, say): the changes wait, are counted and
/// stored once it can be written again; the failure is logged when it starts, now and then while
/// it lasts and when it ends, never once per change or per retry.
@Suite("The journal writer while the store fails")
struct JournalWriterFailureTests {
    /// A store that fails until it is told to work (a disk that fills up and is freed).
    final class FullStore: IncidentStore, Sendable {
        let isFull = Atomic<Bool>(true)
        let stored = Mutex<[IncidentUpdate]>([])

        func store(_ update: IncidentUpdate) async throws -> IncidentUpdate {
            if isFull.load(ordering: .relaxed) {
                throw CaptureError(operation: "store", errno: 28, detail: "database or disk is full")
            }
            stored.withLock { $0.append(update) }
            return update
        }

        func outboxDepth() async throws -> Int { stored.withLock { $0.count } }
        func deadLetterCount() async throws -> Int { 0 }
        func restorableIncidents() async throws -> [Incident] { [] }
        func trimOutbox(toAtMost maximumDepth: Int) async throws -> Int { 0 }
    }

    @Test func changesWaitAreCountedAndAreStoredWhenTheStoreWorksAgain() async throws {
        let log = LogRecording()
        let store = FullStore()
        let writer = JournalWriter(capacity: 100, dropped: {})
        let running = Task { await writer.run(store: store, logger: log.logger()) }
        for n in 0..<5 { writer.offer(JournalWriterTests.update(n)) }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while writer.storeFailures.current < 3, clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }

        #expect(writer.storeFailures.current >= 3)
        #expect(writer.waiting.current == 5)
        #expect(writer.stored.current == 0)
        #expect(writer.storeError?.contains("database or disk is full") == true)
        // Several failed retries, one line (the reminder comes after a minute).
        #expect(log.messages(at: .error).count == 1)
        #expect(log.messages(at: .error).first?.hasPrefix("cannot store incident changes") == true)

        store.isFull.store(false, ordering: .relaxed)
        writer.finish()
        await running.value
        #expect(
            store.stored.withLock { $0.map(\.incident.incidentId) }
                == (0..<5).map {
                    JournalWriterTests.update($0).incident.incidentId
                }
        )
        #expect(writer.waiting.current == 0)
        #expect(writer.stored.current == 5)
        #expect(writer.storeError == nil)
        #expect(log.messages(at: .notice) == ["storing incident changes again"])
    }

    @Test func stoppingWhileTheStoreFailsGivesUpAfterAFewSecondsAndSaysWhatIsLost() async {
        let log = LogRecording()
        let store = FullStore()
        let writer = JournalWriter(capacity: 100, dropped: {})
        for n in 0..<3 { writer.offer(JournalWriterTests.update(n)) }
        writer.finish()
        let clock = ContinuousClock()
        let started = clock.now
        await writer.run(store: store, logger: log.logger())
        #expect(clock.now - started < .seconds(60))
        #expect(writer.stored.current == 0)
        let lost = log.entries.filter {
            $0.message.hasPrefix("stopping with incident changes that could not be stored")
        }
        #expect(lost.count == 1)
        #expect(lost.first?.metadata["lost"] == "3")
    }
}
