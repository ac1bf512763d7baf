import ExecEvents
import RuleEngine

/// Turns the rows of a page query into an ``IncidentPage``.
///
/// Both stores ask for `limit + 1` rows: the extra row only says that there is a next page, and
/// is never parsed, so a query parses no more JSON than the page it returns.
struct IncidentPageBuilder {
    let limit: Int
    let sort: IncidentSort
    private(set) var incidents: [CollectedIncident] = []
    private(set) var hasMore = false

    init(limit: Int, sort: IncidentSort = .lastSeen) {
        self.limit = limit
        self.sort = sort
        incidents.reserveCapacity(min(limit, 1000))
    }

    /// How many rows to ask the database for.
    var rowLimit: Int { limit + 1 }

    /// Adds the next row (rows come in the page's order).
    mutating func add(json: String, receivedFrom: String, receivedAt: Int64) throws(CollectorStoreError) {
        guard incidents.count < limit else {
            hasMore = true
            return
        }
        incidents.append(try Self.collected(json: json, receivedFrom: receivedFrom, receivedAt: receivedAt))
    }

    /// One stored row as an incident.
    static func collected(
        json: String,
        receivedFrom: String,
        receivedAt: Int64
    ) throws(CollectorStoreError) -> CollectedIncident {
        let incident: Incident
        do {
            incident = try Incident(jsonText: json)
        } catch {
            throw .unreadableRow(reason: "incident JSON: \(error)")
        }
        return CollectedIncident(
            incident: incident,
            receivedFrom: receivedFrom,
            receivedAt: EventTime(millisecondsSinceEpoch: receivedAt)
        )
    }

    var page: IncidentPage {
        let cursor =
            hasMore
            ? incidents.last.map { IncidentCursor(after: $0.incident, sort: sort) }
            : nil
        return IncidentPage(incidents: incidents, nextCursor: cursor)
    }
}
