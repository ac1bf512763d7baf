import Forwarding
import Journal
import Synchronization

/// The journal's outbox as the forwarder sees it, keeping the writer's outbox-depth and
/// dead-letter gauges current when the collector acknowledges or refuses changes (so `status`
/// shows the outbox draining and what was refused).
struct ForwardingOutbox: ForwardOutbox {
    let outbox: any ForwardOutbox
    let store: any IncidentStore
    let writer: JournalWriter

    func pendingOutbox(after seq: Int64, limit: Int) async throws -> [OutboxEntry] {
        try await outbox.pendingOutbox(after: seq, limit: limit)
    }

    func acknowledge(seqs: [Int64]) async throws -> Int {
        let removed = try await outbox.acknowledge(seqs: seqs)
        if let depth = try? await store.outboxDepth() { writer.outboxDepth.set(depth) }
        return removed
    }

    func deadLetter(seqs: [Int64], status: Int, reason: String) async throws -> Int {
        let moved = try await outbox.deadLetter(seqs: seqs, status: status, reason: reason)
        if let depth = try? await store.outboxDepth() { writer.outboxDepth.set(depth) }
        if let count = try? await store.deadLetterCount() { writer.deadLettered.set(count) }
        return moved
    }
}
