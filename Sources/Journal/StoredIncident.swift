import ExecEvents
import RuleEngine

/// An incident as the journal holds it: the fields it is queried by, and its JSON exactly as
/// ``RuleEngine/Incident/writeJSON(to:)`` wrote it.
public struct StoredIncident: Sendable, Equatable {
    public var incidentId: IncidentID
    public var ruleId: String
    public var hostName: String
    public var firstSeen: EventTime
    public var lastSeen: EventTime
    public var count: Int64
    public var version: Int64
    /// The incident JSON of DESIGN.md, one line, as stored.
    public var json: String

    public init(
        incidentId: IncidentID,
        ruleId: String,
        hostName: String,
        firstSeen: EventTime,
        lastSeen: EventTime,
        count: Int64,
        version: Int64,
        json: String
    ) {
        self.incidentId = incidentId
        self.ruleId = ruleId
        self.hostName = hostName
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.count = count
        self.version = version
        self.json = json
    }

    /// The whole incident, read back from its JSON.
    public func incident() throws(IncidentJSONError) -> Incident {
        try Incident(jsonText: json)
    }
}
