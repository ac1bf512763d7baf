import ExecEvents
import RuleEngine

extension PostgresCollectorStore {
    /// Stores a batch in one transaction, in three steps that make every outcome exact even when
    /// other collectors store the same incidents at the same time:
    ///
    /// 1. insert the highest version of each incident, `ON CONFLICT DO NOTHING`: what is inserted
    ///    is new (a row another transaction is inserting makes this wait for its end);
    /// 2. lock the rows of the others (`SELECT … FOR UPDATE`, ordered by id) and read their versions;
    /// 3. update those whose stored version is lower.
    ///
    /// Rows are always taken in incident-id order; if PostgreSQL still reports a deadlock (a batch
    /// waiting in step 2 for a row another inserted in step 1) or a serialization failure, the
    /// batch runs again, up to ``upsertAttempts`` times.
    func upsert(_ incidents: [ReceivedIncident]) async throws -> [UpsertOutcome] {
        guard !incidents.isEmpty else { return [] }
        // Encoded here, in the caller's task, in parallel with other callers.
        let batch = incidents.map(IncidentRow.init)
        let logger = logger
        return try await run(doing: "store \(batch.count) incidents") { connection in
            var attempt = 1
            while true {
                do {
                    return try connection.transaction { try PostgresUpsert(batch).run(on: connection) }
                } catch let failure as PostgresFailure
                    where attempt < Self.upsertAttempts && failure.isDeadlockOrSerializationFailure
                {
                    attempt += 1
                    logger.debug("retrying a batch after a deadlock", metadata: ["attempt": "\(attempt)"])
                }
            }
        }
    }

    /// How many times a batch runs when PostgreSQL rolls it back for a deadlock.
    static let upsertAttempts = 5

    func incidents(_ query: IncidentQuery) async throws -> IncidentPage {
        guard query.limit > 0 else { return IncidentPage(incidents: [], nextCursor: nil) }
        var conditions: [String] = []
        var parameters: [String?] = []
        if let hostName = query.hostName {
            parameters.append(hostName)
            conditions.append("host_name = $\(parameters.count)")
        }
        if let ruleId = query.ruleId {
            parameters.append(ruleId)
            conditions.append("rule_id = $\(parameters.count)")
        }
        if let since = query.since {
            parameters.append("\(since.millisecondsSinceEpoch)")
            conditions.append("last_seen >= $\(parameters.count)::int8")
        }
        if let cursor = query.cursor {
            if query.sort == .severity {
                parameters.append("\(cursor.severity ?? Int.max)")
                parameters.append("\(cursor.lastSeen.millisecondsSinceEpoch)")
                parameters.append(cursor.incidentId.description)
                let n = parameters.count
                conditions.append("(severity, last_seen, incident_id) < ($\(n - 2)::int8, $\(n - 1)::int8, $\(n))")
            } else {
                parameters.append("\(cursor.lastSeen.millisecondsSinceEpoch)")
                parameters.append(cursor.incidentId.description)
                conditions.append("(last_seen, incident_id) < ($\(parameters.count - 1)::int8, $\(parameters.count))")
            }
        }
        let limit = query.limit
        let sort = query.sort
        parameters.append("\(IncidentPageBuilder(limit: limit).rowLimit)")
        let order =
            sort == .severity ? "severity DESC, last_seen DESC, incident_id DESC" : "last_seen DESC, incident_id DESC"
        let sql = """
            SELECT json, received_from, received_at FROM incidents
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY \(order) LIMIT $\(parameters.count)::int8
            """
        let sent = parameters
        return try await run(doing: "query incidents") { connection in
            let rows = try connection.read(sql, sent)
            var builder = IncidentPageBuilder(limit: limit, sort: sort)
            for row in 0..<rows.count {
                try builder.add(
                    json: rows.text(row, 0),
                    receivedFrom: rows.text(row, 1),
                    receivedAt: rows.int64(row, 2)
                )
            }
            return builder.page
        }
    }

    func incident(_ id: IncidentID) async throws -> CollectedIncident? {
        try await run(doing: "read incident \(id)") { connection in
            let rows = try connection.read(
                "SELECT json, received_from, received_at FROM incidents WHERE incident_id = $1",
                [id.description]
            )
            guard rows.count > 0 else { return nil }
            return try IncidentPageBuilder.collected(
                json: rows.text(0, 0),
                receivedFrom: rows.text(0, 1),
                receivedAt: rows.int64(0, 2)
            )
        }
    }

    func incidentChart(_ query: IncidentChartQuery) async throws -> IncidentChart {
        var builder = IncidentChartBuilder(query)
        let (sql, parameters) = builder.statement { number, isInteger in "$\(number)" + (isInteger ? "::int8" : "") }
        let sent: [String?] = parameters.map { parameter in
            switch parameter {
            case .integer(let number): "\(number)"
            case .text(let text): text
            }
        }
        let rows = try await run(doing: "chart incidents") { connection in try connection.read(sql, sent) }
        for row in 0..<rows.count {
            builder.add(bucket: try rows.int64(row, 0), key: rows.optionalText(row, 1), count: try rows.int64(row, 2))
        }
        return builder.chart
    }

    func incidentCount() async throws -> Int {
        try await run(doing: "count incidents") { connection in
            Int(try connection.read("SELECT count(*) FROM incidents").int64(0, 0))
        }
    }
}
