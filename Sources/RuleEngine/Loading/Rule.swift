import ExecEvents

/// One FortiSIEM correlation rule with a single sub-pattern, compiled and ready to evaluate.
///
/// Field sources in FortiSIEM's rule XML: `id` (or the older `natural_id`), `group`, `function`
/// (category), `subFunction` (tactics, comma-separated), `technique` (comma-separated) and
/// `phIncidentCategory` (impacts) are attributes of `<Rule>`; `<Name>`, `<Description>`, `<active>`
/// are children; `<IncidentDef eventType= severity=>` holds the incident type, severity and
/// `<ArgList>`; `<PatternClause window=>` holds one `<SubPattern name=>` with `<SingleEvtConstr>`,
/// `<GroupByAttr>` and `<GroupEvtConstr>`.
public struct Rule: Sendable {
    public var id: String
    public var name: String
    public var description: String
    /// `<active>`; inactive rules load (for listing and checking) but the engine does not run them.
    public var isActive: Bool
    /// The rule group (`group` attribute), e.g. `PH_SYS_RULE_THREAT_HUNTING`.
    public var group: String?
    public var severity: Int
    /// The incident category (`function` attribute), e.g. `Security`.
    public var category: String
    /// What the incident impacts (`phIncidentCategory` attribute), e.g. `Server`.
    public var impacts: String?
    /// MITRE ATT&CK tactics (`subFunction` attribute), e.g. `["Execution"]`.
    public var tactics: [String]
    /// MITRE ATT&CK techniques (`technique` attribute), e.g. `["T1059.004"]`.
    public var techniques: [String]
    /// The incident's event type (`IncidentDef eventType`), e.g. `PH_RULE_TH_LINUX_23`.
    public var incidentType: String
    /// The sliding window, in seconds (`PatternClause window`).
    public var windowSeconds: Int64
    /// The longest window a rule may have: ten years. It keeps window arithmetic on event times
    /// (milliseconds of years 1970–9999) far inside Int64.
    public static let maximumWindowSeconds: Int64 = 315_360_000
    /// The sub-pattern's name (`SubPattern name`), e.g. `Filter`; ArgList entries refer to it.
    public var subPatternName: String
    public var filter: FilterExpression
    /// `GroupByAttr` as written.
    public var groupBy: [EventAttribute]
    public var aggregate: AggregateExpression
    /// `ArgList`: incident attribute name → sub-pattern attribute, in ArgList order.
    public var incidentAttributes: [IncidentAttributeMapping]
    /// Where the rule was defined.
    public var location: RuleLocation
    /// The rule's author (Sigma `author`), kept in its incidents: the Detection Rule License asks for it.
    public var author: String?
    /// Where the rule comes from, kept in its incidents: a URL, or the rule file's path when none is known.
    public var sourceReference: String?
    /// For a Sigma `temporal`/`temporal_ordered` correlation, the rules it correlates (their
    /// filters, group sources and order); nil for every other rule. `filter` is then any of them.
    public var correlatedRules: CorrelatedRules?

    public init(
        id: String,
        name: String,
        description: String = "",
        isActive: Bool = true,
        group: String? = nil,
        severity: Int,
        category: String,
        impacts: String? = nil,
        tactics: [String] = [],
        techniques: [String] = [],
        incidentType: String,
        windowSeconds: Int64,
        subPatternName: String = "Filter",
        filter: FilterExpression,
        groupBy: [EventAttribute],
        aggregate: AggregateExpression = .countAtLeastOne,
        incidentAttributes: [IncidentAttributeMapping] = [],
        location: RuleLocation = RuleLocation(file: "", line: 0, column: 0),
        author: String? = nil,
        sourceReference: String? = nil,
        correlatedRules: CorrelatedRules? = nil
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.isActive = isActive
        self.group = group
        self.severity = severity
        self.category = category
        self.impacts = impacts
        self.tactics = tactics
        self.techniques = techniques
        self.incidentType = incidentType
        self.windowSeconds = windowSeconds
        self.subPatternName = subPatternName
        self.filter = filter
        self.groupBy = groupBy
        self.aggregate = aggregate
        self.incidentAttributes = incidentAttributes
        self.location = location
        self.author = author
        self.sourceReference = sourceReference
        self.correlatedRules = correlatedRules
    }

    /// The attributes whose values form a group: `hostName` first (always), then `groupBy` without it.
    public var groupKeyAttributes: [EventAttribute] {
        [.hostName] + groupBy.filter { $0 != .hostName }
    }

    /// Everything that defines the rule's behaviour and output, in a canonical text form. Two rules
    /// with the same id and the same definition are the same rule (a reload keeps its windows).
    public var definition: String {
        var parts: [String] = [
            id, name, description, String(isActive), group ?? "", String(severity), category, impacts ?? "",
            tactics.joined(separator: ","), techniques.joined(separator: ","), incidentType,
            String(windowSeconds), subPatternName, filter.description, groupBy.map(\.name).joined(separator: ","),
            aggregate.description, author ?? "", sourceReference ?? "", correlatedRules?.definition ?? "",
        ]
        parts.append(
            incidentAttributes.map { "\($0.name)=\($0.subPattern).\($0.attribute.name)" }.joined(separator: ",")
        )
        return parts.joined(separator: "\u{1F}")
    }
}

/// One ArgList entry: `user = Filter.user` maps sub-pattern attribute `user` to incident attribute `user`.
public struct IncidentAttributeMapping: Sendable, Equatable {
    public var name: String
    public var subPattern: String
    public var attribute: EventAttribute

    public init(name: String, subPattern: String, attribute: EventAttribute) {
        self.name = name
        self.subPattern = subPattern
        self.attribute = attribute
    }
}

/// Where something was defined: file, 1-based line and column (0 when not from a file).
public struct RuleLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}
