import ExecEvents
import RuleEngine
import SQLiteDatabase
import SQLiteNIO

extension IncidentJournal {
    /// Incidents newest first (by `lastSeen`, then id), optionally only those seen at or after
    /// `since`, only those of one rule, and at most `limit` of them.
    public func incidents(
        since: EventTime? = nil,
        ruleId: String? = nil,
        limit: Int? = nil
    ) async throws -> [StoredIncident] {
        let query = RowFilter(timeColumn: "lastSeen", since: since, ruleId: ruleId, limit: limit)
        let sql = """
            SELECT incidentId, ruleId, hostName, firstSeen, lastSeen, count, version, json FROM incidents
            \(query.whereClause) ORDER BY lastSeen DESC, incidentId \(query.limitClause)
            """
        return try await exclusively { [binds = query.binds] session in
            try await session.rows(sql, binds, doing: "read incidents").map { row in
                try session.storedIncident(row)
            }
        }
    }

    /// The most recently seen incidents (at most `limit`), **oldest first**, whole: what
    /// ``RuleEngine/DetectionEngine/restore(_:)`` takes back after a restart, in the order to
    /// hand them over (so the engine's least-recently-changed order is rebuilt).
    public func restorableIncidents(limit: Int) async throws -> [Incident] {
        let newestFirst = try await incidents(limit: limit)
        var restored: [Incident] = []
        restored.reserveCapacity(newestFirst.count)
        for stored in newestFirst.reversed() {
            do {
                restored.append(try stored.incident())
            } catch {
                throw JournalError.unreadableRow(path: path, reason: "incident \(stored.incidentId): \(error)")
            }
        }
        return restored
    }

    /// Every incident kept, oldest first (see ``restorableIncidents(limit:)``).
    public func restorableIncidents() async throws -> [Incident] {
        try await restorableIncidents(limit: Int.max)
    }
}

extension SQLiteSession {
    /// An `incidents` row (every column).
    func storedIncident(_ row: SQLiteRow) throws -> StoredIncident {
        StoredIncident(
            incidentId: try incidentId(row, in: "incidents"),
            ruleId: try text(row, "ruleId"),
            hostName: try text(row, "hostName"),
            firstSeen: EventTime(millisecondsSinceEpoch: try integer(row, "firstSeen")),
            lastSeen: EventTime(millisecondsSinceEpoch: try integer(row, "lastSeen")),
            count: try integer(row, "count"),
            version: try integer(row, "version"),
            json: try text(row, "json")
        )
    }
}

/// The optional filters of a listing (rows at or after a time, of one rule) and its limit, as SQL
/// with numbered parameters.
struct RowFilter {
    private(set) var binds: [SQLiteData] = []
    private(set) var whereClause = ""
    private(set) var limitClause = ""

    init(timeColumn: String, since: EventTime?, ruleId: String?, limit: Int?) {
        var conditions: [String] = []
        if let since {
            binds.append(.integer(Int(since.millisecondsSinceEpoch)))
            conditions.append("\(timeColumn) >= ?\(binds.count)")
        }
        if let ruleId {
            binds.append(.text(ruleId))
            conditions.append("ruleId = ?\(binds.count)")
        }
        if !conditions.isEmpty { whereClause = "WHERE " + conditions.joined(separator: " AND ") }
        // SQLite: a negative LIMIT means no limit.
        binds.append(.integer(limit.map { max(0, $0) } ?? -1))
        limitClause = "LIMIT ?\(binds.count)"
    }
}
