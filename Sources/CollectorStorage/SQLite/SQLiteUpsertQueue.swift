import SQLiteDatabase

/// The batches waiting for the writer, stored together: when the writer is free, every batch that
/// arrived meanwhile (up to ``maximumRowsPerTransaction`` incidents) goes into one transaction.
///
/// One commit (one WAL fsync) then serves several callers, and index pages they share are
/// written once; a lone caller still gets its own transaction at once. Each batch keeps its
/// promise: all of it or none of it is stored (a transaction holds whole batches), its outcomes
/// are those of applying the batches one after the other, in arrival order, and its caller hears
/// back only after the commit. If a joint transaction fails, its batches run again one by one,
/// so that one batch's failure is not another's.
actor SQLiteUpsertQueue {
    static let maximumRowsPerTransaction = 1000

    private struct Waiting {
        let batch: [IncidentRow]
        let continuation: CheckedContinuation<[UpsertOutcome], any Error>
    }

    private let writer: SQLiteSerialConnection
    private var waiting: [Waiting] = []
    private var draining = false

    init(writer: SQLiteSerialConnection) {
        self.writer = writer
    }

    /// Stores a non-empty batch; returns once it is committed.
    func upsert(_ batch: [IncidentRow]) async throws -> [UpsertOutcome] {
        try await withCheckedThrowingContinuation { continuation in
            waiting.append(Waiting(batch: batch, continuation: continuation))
            if !draining {
                draining = true
                Task { await drain() }
            }
        }
    }

    private func drain() async {
        while !waiting.isEmpty {
            var rows = 0
            var count = 0
            while count < waiting.count,
                count == 0 || rows + waiting[count].batch.count <= Self.maximumRowsPerTransaction
            {
                rows += waiting[count].batch.count
                count += 1
            }
            let group = Array(waiting.prefix(count))
            waiting.removeFirst(count)
            await store(group)
        }
        draining = false
    }

    private func store(_ group: [Waiting]) async {
        let batches = group.map(\.batch)
        let rows = batches.reduce(0) { $0 + $1.count }
        let operation = "store \(rows) incidents"
        do {
            let outcomes = try await writer.exclusively(doing: operation) { session in
                try await session.transaction(doing: operation) {
                    try await session.upsert(batches, doing: operation)
                }
            }
            for (waiting, outcomes) in zip(group, outcomes) { waiting.continuation.resume(returning: outcomes) }
        } catch  where group.count > 1 {
            for waiting in group { await store([waiting]) }
        } catch {
            for waiting in group { waiting.continuation.resume(throwing: error) }
        }
    }
}
