import ExecEvents
import RuleEngine
import SQLiteDatabase
import SQLiteNIO

extension SQLiteCollectorStore {
    func upsert(_ incidents: [ReceivedIncident]) async throws -> [UpsertOutcome] {
        guard !incidents.isEmpty else { return [] }
        // Encoded here, in the caller's task: several callers encode in parallel.
        return try await upserts.upsert(incidents.map(IncidentRow.init))
    }

    func incidents(_ query: IncidentQuery) async throws -> IncidentPage {
        guard query.limit > 0 else { return IncidentPage(incidents: [], nextCursor: nil) }
        var conditions: [String] = []
        var binds: [SQLiteData] = []
        if let hostName = query.hostName {
            conditions.append("host_name = ?")
            binds.append(.text(hostName))
        }
        if let ruleId = query.ruleId {
            conditions.append("rule_id = ?")
            binds.append(.text(ruleId))
        }
        if let since = query.since {
            conditions.append("last_seen >= ?")
            binds.append(.integer(Int(since.millisecondsSinceEpoch)))
        }
        if let cursor = query.cursor {
            if query.sort == .severity {
                conditions.append("(severity, last_seen, incident_id) < (?, ?, ?)")
                binds.append(.integer(cursor.severity ?? Int.max))
            } else {
                conditions.append("(last_seen, incident_id) < (?, ?)")
            }
            binds.append(.integer(Int(cursor.lastSeen.millisecondsSinceEpoch)))
            binds.append(.text(cursor.incidentId.description))
        }
        var builder = IncidentPageBuilder(limit: query.limit, sort: query.sort)
        binds.append(.integer(builder.rowLimit))
        let order =
            query.sort == .severity
            ? "severity DESC, last_seen DESC, incident_id DESC" : "last_seen DESC, incident_id DESC"
        let sql = """
            SELECT json, received_from, received_at FROM incidents
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY \(order) LIMIT ?
            """
        // Only the rows are read on the reader's turn; their JSON is parsed in the caller's task.
        let rows = try await reader.exclusively(doing: "query incidents") { [binds] session in
            try await session.rows(sql, binds, doing: "query incidents").map { row in
                (
                    json: try session.text(row, "json"),
                    receivedFrom: try session.text(row, "received_from"),
                    receivedAt: try session.integer(row, "received_at")
                )
            }
        }
        for row in rows {
            try builder.add(json: row.json, receivedFrom: row.receivedFrom, receivedAt: row.receivedAt)
        }
        return builder.page
    }

    func incident(_ id: IncidentID) async throws -> CollectedIncident? {
        let row = try await reader.exclusively(doing: "read incident \(id)") { session in
            try await session.rows(
                "SELECT json, received_from, received_at FROM incidents WHERE incident_id = ?",
                [.text(id.description)],
                doing: "read incident \(id)"
            ).first.map { row in
                (
                    json: try session.text(row, "json"),
                    receivedFrom: try session.text(row, "received_from"),
                    receivedAt: try session.integer(row, "received_at")
                )
            }
        }
        guard let row else { return nil }
        return try IncidentPageBuilder.collected(
            json: row.json,
            receivedFrom: row.receivedFrom,
            receivedAt: row.receivedAt
        )
    }

    func incidentChart(_ query: IncidentChartQuery) async throws -> IncidentChart {
        var builder = IncidentChartBuilder(query)
        let (sql, parameters) = builder.statement { number, _ in "?\(number)" }
        let binds: [SQLiteData] = parameters.map { parameter in
            switch parameter {
            case .integer(let number): .integer(Int(number))
            case .text(let text): .text(text)
            }
        }
        let rows = try await reader.exclusively(doing: "chart incidents") { session in
            try await session.rows(sql, binds, doing: "chart incidents").map { row in
                (
                    bucket: try session.integer(row, "bucket"),
                    key: row.column("series")?.string,
                    count: try session.integer(row, "incidents")
                )
            }
        }
        for row in rows {
            builder.add(bucket: row.bucket, key: row.key, count: row.count)
        }
        return builder.chart
    }

    func incidentCount() async throws -> Int {
        try await reader.exclusively(doing: "count incidents") { session in
            let count = try await session.value("SELECT count(*) FROM incidents", doing: "count incidents")
            return count?.integer ?? 0
        }
    }
}

extension SQLiteSession {
    /// Stores batches, one after the other, inside the caller's transaction; the outcomes of each.
    func upsert(_ batches: [[IncidentRow]], doing operation: String) async throws -> [[UpsertOutcome]] {
        // Applying the batches in turn is applying their concatenation.
        let rows = Array(batches.joined())
        let stored = try await storedVersions(of: rows, doing: operation)
        let plan = try UpsertPlan(batch: rows, stored: stored)
        try await write(plan.writes, doing: operation)
        var outcomes: [[UpsertOutcome]] = []
        var start = 0
        for batch in batches {
            outcomes.append(Array(plan.outcomes[start..<start + batch.count]))
            start += batch.count
        }
        return outcomes
    }

    /// The stored version and host of each incident of the batch the database holds.
    private func storedVersions(
        of batch: [IncidentRow],
        doing operation: String
    ) async throws -> [IncidentID: StoredIncidentVersion] {
        // One JSON array of ids (hex, nothing to escape) instead of a bind per id: no limit on
        // the number of binds, and the primary key index is used per id.
        var ids = "["
        for (index, row) in batch.enumerated() {
            ids += index == 0 ? "\"" : ",\""
            ids += row.idText
            ids += "\""
        }
        ids += "]"
        let found = try await rows(
            """
            SELECT incident_id, version, host_name FROM incidents
            WHERE incident_id IN (SELECT value FROM json_each(?))
            """,
            [.text(ids)],
            doing: operation
        )
        var stored: [IncidentID: StoredIncidentVersion] = [:]
        for row in found {
            let idText = try text(row, "incident_id")
            guard let id = IncidentID(hex: idText) else {
                throw CollectorStoreError.unreadableRow(
                    reason: "SQLite \(path): incident_id \"\(idText)\" is not 32 hex digits"
                )
            }
            stored[id] = StoredIncidentVersion(
                version: try integer(row, "version"),
                hostName: try text(row, "host_name")
            )
        }
        return stored
    }

    /// Inserts or replaces the rows, several per statement. The `WHERE` keeps the highest version,
    /// and never lets one host's row replace another's, even if the caller's view of the stored
    /// rows were stale.
    private func write(_ writes: [IncidentRow], doing operation: String) async throws {
        let rowsPerStatement = 100
        var start = 0
        while start < writes.count {
            let chunk = writes[start..<min(start + rowsPerStatement, writes.count)]
            start += chunk.count
            var binds: [SQLiteData] = []
            binds.reserveCapacity(chunk.count * 14)
            for row in chunk {
                binds.append(.text(row.idText))
                binds.append(.integer(Int(row.version)))
                binds.append(.text(row.ruleId))
                binds.append(.text(row.hostName))
                binds.append(row.userName.isEmpty ? .null : .text(row.userName))
                binds.append(row.procName.isEmpty ? .null : .text(row.procName))
                binds.append(.integer(Int(row.severity)))
                binds.append(row.ruleAuthor.map { .text($0) } ?? .null)
                binds.append(row.ruleSource.map { .text($0) } ?? .null)
                binds.append(.integer(Int(row.firstSeen)))
                binds.append(.integer(Int(row.lastSeen)))
                binds.append(.text(row.receivedFrom))
                binds.append(.integer(Int(row.receivedAt)))
                binds.append(.text(row.json))
            }
            let values = Array(repeating: "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", count: chunk.count).joined(separator: ",")
            try await rows(
                """
                INSERT OR ROLLBACK INTO incidents (incident_id, version, rule_id, host_name, user_name, proc_name,
                    severity, rule_author, rule_source, first_seen, last_seen, received_from, received_at, json)
                VALUES \(values)
                ON CONFLICT (incident_id) DO UPDATE SET
                    version = excluded.version, rule_id = excluded.rule_id, host_name = excluded.host_name,
                    user_name = excluded.user_name, proc_name = excluded.proc_name, severity = excluded.severity,
                    rule_author = excluded.rule_author, rule_source = excluded.rule_source,
                    first_seen = excluded.first_seen, last_seen = excluded.last_seen,
                    received_from = excluded.received_from, received_at = excluded.received_at,
                    json = excluded.json
                WHERE excluded.version > incidents.version AND excluded.host_name = incidents.host_name
                """,
                binds,
                doing: operation
            )
        }
    }
}
