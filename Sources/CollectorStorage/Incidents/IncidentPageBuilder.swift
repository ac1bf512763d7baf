import ExecEvents
import RuleEngine

/// Turns the rows of a page query into an ``IncidentPage``.
///
/// Both stores ask for `limit + 1` rows: the extra row only says that there is a next page, and
/// is never parsed, so a query parses no more JSON than the page it returns.
struct IncidentPageBuilder {
    let limit: Int
    private(set) var incidents: [CollectedIncident] = []
    private(set) var hasMore = false

    init(limit: Int) {
        self.limit = limit
        incidents.reserveCapacity(min(limit, 1000))
    }

    /// How many rows to ask the database for.
    var rowLimit: Int { limit + 1 }

    /// Adds the next row (rows come newest first).
    mutating func add(json: String, receivedFrom: String, receivedAt: Int64) throws(CollectorStoreError) {
        guard incidents.count < limit else {
            hasMore = true
            return
        }
        let incident: Incident
        do {
            incident = try Incident(jsonText: json)
        } catch {
            throw .unreadableRow(reason: "incident JSON: \(error)")
        }
        incidents.append(
            CollectedIncident(
                incident: incident,
                receivedFrom: receivedFrom,
                receivedAt: EventTime(millisecondsSinceEpoch: receivedAt)
            )
        )
    }

    var page: IncidentPage {
        let cursor =
            hasMore
            ? incidents.last.map { IncidentCursor(lastSeen: $0.incident.lastSeen, incidentId: $0.incident.incidentId) }
            : nil
        return IncidentPage(incidents: incidents, nextCursor: cursor)
    }
}
