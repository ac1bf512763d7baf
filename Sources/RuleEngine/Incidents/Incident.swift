import ExecEvents

/// An incident: one group of one rule that met the rule's aggregate constraint, with how many
/// matching events it has taken in, when, and the events that first triggered it.
///
/// `version` starts at 1 and grows with every update, so a receiver keeps the highest version.
public struct Incident: Sendable, Equatable {
    public var incidentId: IncidentID
    public var ruleId: String
    public var ruleName: String
    public var incidentType: String
    public var severity: Int
    public var category: String
    public var tactics: [String]
    public var techniques: [String]
    public var hostName: String
    /// The ArgList attributes in ArgList order (an attribute the events lack is left out).
    public var attributes: [IncidentAttribute]
    public var count: Int64
    public var firstSeen: EventTime
    public var lastSeen: EventTime
    public var version: Int64
    public var agentId: String
    /// The events that made the incident trigger first (the latest ones of that window, capped).
    public var triggerEvents: [ExecEvent]
    /// The rule's author (``Rule/author``; Sigma's `author`), nil when the rule names none.
    public var ruleAuthor: String?
    /// Where the rule comes from (``Rule/sourceReference``): a URL or a file path, nil when unknown.
    public var ruleSource: String?

    public init(
        incidentId: IncidentID,
        ruleId: String,
        ruleName: String,
        incidentType: String,
        severity: Int,
        category: String,
        tactics: [String],
        techniques: [String],
        hostName: String,
        attributes: [IncidentAttribute],
        count: Int64,
        firstSeen: EventTime,
        lastSeen: EventTime,
        version: Int64,
        agentId: String,
        triggerEvents: [ExecEvent],
        ruleAuthor: String? = nil,
        ruleSource: String? = nil
    ) {
        self.incidentId = incidentId
        self.ruleId = ruleId
        self.ruleName = ruleName
        self.incidentType = incidentType
        self.severity = severity
        self.category = category
        self.tactics = tactics
        self.techniques = techniques
        self.hostName = hostName
        self.attributes = attributes
        self.count = count
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.version = version
        self.agentId = agentId
        self.triggerEvents = triggerEvents
        self.ruleAuthor = ruleAuthor
        self.ruleSource = ruleSource
    }

    /// The value of an incident attribute by name.
    public func attribute(_ name: String) -> AttributeValue? {
        attributes.first { $0.name == name }?.value
    }
}

/// One mapped incident attribute (`user` → `alice`).
public struct IncidentAttribute: Sendable, Equatable {
    public var name: String
    public var value: AttributeValue

    public init(name: String, value: AttributeValue) {
        self.name = name
        self.value = value
    }
}

/// What one event did to an incident.
///
/// The engine's `version` and `count` are its own view: an engine that forgot the incident
/// (``EngineConfiguration/maxIncidents``, or a restart) starts again at version 1. A journal that
/// keeps incidents owns both: it stores a change as its own version + 1 and its own count +
/// ``countIncrement``, so nothing counted is lost or counted twice whatever the engine remembered.
public struct IncidentUpdate: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case created
        case updated
    }

    public var kind: Kind
    /// The incident after the change, as the engine sees it.
    public var incident: Incident
    /// The matching events this change counted that no earlier change of the incident reported
    /// (for a new incident, its whole `count`).
    public var countIncrement: Int64

    public init(kind: Kind, incident: Incident, countIncrement: Int64) {
        self.kind = kind
        self.incident = incident
        self.countIncrement = countIncrement
    }
}
