import ExecEvents
import RuleEngine
import SQLiteDatabase
import SQLiteNIO

extension IncidentJournal {
    /// How many changes wait in the outbox.
    public func outboxDepth() async throws -> Int {
        try await exclusively { session in
            try await session.value("SELECT count(*) FROM outbox", doing: "count the outbox")?.integer ?? 0
        }
    }

    /// The oldest changes waiting in the outbox, in the order they were stored (by `seq`), at most
    /// `limit`, only those after `seq` (to read ahead while earlier ones are still being sent).
    public func pendingOutbox(after seq: Int64 = 0, limit: Int) async throws -> [OutboxEntry] {
        try await exclusively { session in
            try await session.rows(
                """
                SELECT seq, incidentId, version, kind, json, enqueuedAt FROM outbox
                WHERE seq > ?1 ORDER BY seq LIMIT ?2
                """,
                [.integer(Int(seq)), .integer(max(0, limit))],
                doing: "read the outbox"
            ).map { row in try session.outboxEntry(row) }
        }
    }

    /// Removes every change with `seq` up to and including `seq` (the collector has them);
    /// returns how many were removed.
    @discardableResult
    public func acknowledge(upTo seq: Int64) async throws -> Int {
        try requireWritable()
        return try await exclusively { session in
            try await session.rows(
                "DELETE FROM outbox WHERE seq <= ?1 RETURNING seq",
                [.integer(Int(seq))],
                doing: "acknowledge the outbox up to \(seq)"
            ).count
        }
    }

    /// Removes exactly the changes with these `seq`s; returns how many were removed (a `seq` not in
    /// the outbox is ignored).
    @discardableResult
    public func acknowledge(seqs: [Int64]) async throws -> Int {
        try requireWritable()
        guard !seqs.isEmpty else { return 0 }
        let list = "[" + seqs.map(String.init).joined(separator: ",") + "]"
        return try await exclusively { session in
            try await session.rows(
                "DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?1)) RETURNING seq",
                [.text(list)],
                doing: "acknowledge \(seqs.count) outbox rows"
            ).count
        }
    }

    /// Brings the outbox down to at most `maximumDepth` rows: drops the oldest updates first, and
    /// first occurrences (`created`) only when no update is left. Returns what was dropped, for the
    /// forwarder to count.
    @discardableResult
    public func trimOutbox(toAtMost maximumDepth: Int) async throws -> OutboxTrim {
        try requireWritable()
        return try await exclusively { session in
            let dropped = try await session.rows(
                """
                DELETE FROM outbox WHERE seq IN (
                    SELECT seq FROM outbox ORDER BY kind = 'created', seq
                    LIMIT max(0, (SELECT count(*) FROM outbox) - ?1)
                ) RETURNING kind
                """,
                [.integer(max(0, maximumDepth))],
                doing: "trim the outbox"
            )
            var trim = OutboxTrim()
            for row in dropped {
                if case .text("created") = row.column("kind") {
                    trim.droppedCreations += 1
                } else {
                    trim.droppedUpdates += 1
                }
            }
            return trim
        }
    }
}

extension SQLiteSession {
    fileprivate func outboxEntry(_ row: SQLiteRow) throws -> OutboxEntry {
        OutboxEntry(
            seq: try integer(row, "seq"),
            incidentId: try incidentId(row, in: "outbox"),
            version: try integer(row, "version"),
            kind: try kind(row, in: "outbox"),
            json: try text(row, "json"),
            enqueuedAt: EventTime(millisecondsSinceEpoch: try integer(row, "enqueuedAt"))
        )
    }
}

extension SQLiteSession {
    /// A row's `incidentId` column, or ``JournalError/unreadableRow(path:reason:)`` naming the table.
    func incidentId(_ row: SQLiteRow, in table: String) throws -> IncidentID {
        let idText = try text(row, "incidentId")
        guard let id = IncidentID(hex: idText) else {
            throw JournalError.unreadableRow(
                path: path,
                reason: "\(table) incidentId \"\(idText)\" is not 32 hex digits"
            )
        }
        return id
    }

    /// A row's `kind` column (`created` or `updated`), or ``JournalError/unreadableRow(path:reason:)``.
    func kind(_ row: SQLiteRow, in table: String) throws -> IncidentUpdate.Kind {
        let kindText = try text(row, "kind")
        guard let kind = IncidentUpdate.Kind(outboxName: kindText) else {
            throw JournalError.unreadableRow(path: path, reason: "\(table) kind \"\(kindText)\"")
        }
        return kind
    }
}
