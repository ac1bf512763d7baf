import ExecEvents
import RuleEngine
import SQLiteDatabase
import SQLiteNIO

extension IncidentJournal {
    /// Moves the outbox rows with these `seq`s to the dead-letter table, in one transaction, with
    /// the collector's `status` and `reason`: they leave the outbox (and no longer hold it up) but
    /// are never deleted. Returns how many rows moved (a `seq` not in the outbox is ignored).
    @discardableResult
    public func deadLetter(seqs: [Int64], status: Int, reason: String) async throws -> Int {
        try requireWritable()
        guard !seqs.isEmpty else { return 0 }
        let list = SQLiteData.text("[" + seqs.map(String.init).joined(separator: ",") + "]")
        let refusedAt = EventTime.now
        return try await exclusively { session in
            try await session.transaction(doing: "move \(seqs.count) refused outbox rows to the dead letters") {
                try await session.rows(
                    """
                    INSERT INTO deadLetters
                        (seq, incidentId, ruleId, version, kind, json, enqueuedAt, status, reason, refusedAt)
                    SELECT seq, incidentId, coalesce(CASE WHEN json_valid(json) THEN json_extract(json, '$.ruleId') END, ''), version, kind, json,
                        enqueuedAt, ?2, ?3, ?4
                    FROM outbox WHERE seq IN (SELECT value FROM json_each(?1))
                    """,
                    [list, .integer(status), .text(reason), .integer(Int(refusedAt.millisecondsSinceEpoch))],
                    doing: "keep refused outbox rows as dead letters"
                )
                return try await session.rows(
                    "DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?1)) RETURNING seq",
                    [list],
                    doing: "remove refused rows from the outbox"
                ).count
            }
        }
    }

    /// How many refused changes the dead-letter table holds.
    public func deadLetterCount() async throws -> Int {
        try await exclusively { session in
            try await session.value("SELECT count(*) FROM deadLetters", doing: "count the dead letters")?.integer ?? 0
        }
    }

    /// The refused changes, most recently refused first, optionally only those refused at or after
    /// `since`, only those of one rule, and at most `limit` of them.
    public func deadLetters(
        since: EventTime? = nil,
        ruleId: String? = nil,
        limit: Int? = nil
    ) async throws -> [DeadLetter] {
        let query = RowFilter(timeColumn: "refusedAt", since: since, ruleId: ruleId, limit: limit)
        let sql = """
            SELECT seq, incidentId, ruleId, version, kind, json, enqueuedAt, status, reason, refusedAt
            FROM deadLetters \(query.whereClause) ORDER BY refusedAt DESC, seq DESC \(query.limitClause)
            """
        return try await exclusively { [binds = query.binds] session in
            try await session.rows(sql, binds, doing: "read the dead letters").map { row in
                try session.deadLetter(row)
            }
        }
    }
}

extension SQLiteSession {
    fileprivate func deadLetter(_ row: SQLiteRow) throws -> DeadLetter {
        DeadLetter(
            seq: try integer(row, "seq"),
            incidentId: try incidentId(row, in: "deadLetters"),
            ruleId: try text(row, "ruleId"),
            version: try integer(row, "version"),
            kind: try kind(row, in: "deadLetters"),
            json: try text(row, "json"),
            enqueuedAt: EventTime(millisecondsSinceEpoch: try integer(row, "enqueuedAt")),
            status: Int(try integer(row, "status")),
            reason: try text(row, "reason"),
            refusedAt: EventTime(millisecondsSinceEpoch: try integer(row, "refusedAt"))
        )
    }
}
