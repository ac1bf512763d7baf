import Forwarding
import Journal
import Synchronization

/// The journal's outbox as the forwarder sees it, keeping the writer's outbox-depth gauge current
/// when the collector acknowledges changes (so `status` shows the outbox draining).
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
}
