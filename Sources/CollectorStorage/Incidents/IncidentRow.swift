import ExecEvents
import RuleEngine

/// A received incident as both stores write it: the indexed columns, and the incident's JSON.
///
/// Built before a store takes its writer's turn, so that encoding JSON for a batch runs in the
/// caller's task, in parallel with other callers.
struct IncidentRow: Sendable {
    var id: IncidentID
    var idText: String
    var version: Int64
    var ruleId: String
    var hostName: String
    /// The `user` and `procName` attributes, for people reading the table; "" when absent.
    var userName: String
    var procName: String
    var severity: Int64
    /// The rule's author and source, when the incident has them.
    var ruleAuthor: String?
    var ruleSource: String?
    var firstSeen: Int64
    var lastSeen: Int64
    var receivedFrom: String
    var receivedAt: Int64
    var json: String

    init(_ received: ReceivedIncident) {
        let incident = received.incident
        id = incident.incidentId
        idText = incident.incidentId.description
        version = incident.version
        ruleId = Self.column(incident.ruleId)
        hostName = Self.column(incident.hostName)
        userName = Self.column(incident.attribute("user")?.description ?? "")
        procName = Self.column(incident.attribute("procName")?.description ?? "")
        severity = Int64(incident.severity)
        ruleAuthor = incident.ruleAuthor.map(Self.column)
        ruleSource = incident.ruleSource.map(Self.column)
        firstSeen = incident.firstSeen.millisecondsSinceEpoch
        lastSeen = incident.lastSeen.millisecondsSinceEpoch
        receivedFrom = Self.column(received.receivedFrom)
        receivedAt = received.receivedAt.millisecondsSinceEpoch
        json = incident.jsonLine
    }

    /// PostgreSQL's TEXT cannot hold NUL, so an agent sending one would have its batch refused
    /// forever; the columns get U+FFFD instead (the JSON keeps the exact text, escaped).
    private static func column(_ text: String) -> String {
        guard text.utf8.contains(0) else { return text }
        return String(text.unicodeScalars.map { $0 == "\u{0}" ? "\u{FFFD}" : Character($0) })
    }
}
