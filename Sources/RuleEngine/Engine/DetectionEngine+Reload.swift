/// What a rule reload changed, by rule id.
public struct RuleReloadSummary: Sendable, Equatable {
    /// Same id and same definition: their windows were kept.
    public var unchanged: [String] = []
    /// Same id, different definition: their windows were dropped.
    public var changed: [String] = []
    public var added: [String] = []
    public var removed: [String] = []

    public init() {}
}

extension DetectionEngine {
    /// Replaces the rule set. A rule with the same id and the same ``Rule/definition`` as before
    /// keeps its groups' windows; the windows of changed and removed rules are dropped. Incidents are
    /// kept (their ids depend only on rule id and group, so a changed rule continues them).
    @discardableResult
    public mutating func replaceRules(_ newRules: [Rule]) -> RuleReloadSummary {
        var summary = RuleReloadSummary()
        // Definitions are rendered only for ids the engine already had: a first load (or a rule
        // added on reload) has nothing to compare them with, and rendering a large rule set's
        // filters is a sizeable share of start-up.
        var old: [String: (rule: Rule, number: Int)] = [:]
        for entry in active { old[entry.rule.id] = (entry.rule, entry.number) }
        let oldIds = Set(rules.map(\.id))
        let oldRules = Dictionary(rules.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })

        var newActive: [ActiveRule] = []
        var kept: Set<Int> = []
        for rule in newRules {
            var definition: String?
            if let previous = oldRules[rule.id] {
                definition = rule.definition
                if previous.definition == definition {
                    summary.unchanged.append(rule.id)
                } else {
                    summary.changed.append(rule.id)
                }
            } else {
                summary.added.append(rule.id)
            }
            guard rule.isActive else { continue }
            if let previous = old[rule.id], previous.rule.definition == (definition ?? rule.definition) {
                newActive.append(ActiveRule(rule: rule, number: previous.number))
                kept.insert(previous.number)
            } else {
                newActive.append(ActiveRule(rule: rule, number: nextRuleNumber))
                nextRuleNumber += 1
            }
        }
        let newIds = Set(newRules.map(\.id))
        summary.removed = rules.map(\.id).filter { !newIds.contains($0) && oldIds.contains($0) }

        groups.removeAll { !kept.contains($0.rule) }
        rules = newRules
        active = newActive
        index = RuleIndex(newActive.enumerated().map { ($0.offset, $0.element.rule.filter) })
        programs = FilterPrograms(newActive.map(\.rule.filter))
        let windows = newActive.map { (number: $0.number, id: $0.rule.id, milliseconds: $0.rule.windowSeconds * 1000) }
        windowByRuleNumber = Dictionary(uniqueKeysWithValues: windows.map { ($0.number, $0.milliseconds) })
        windowByRuleId = Dictionary(windows.map { ($0.id, $0.milliseconds) }) { max($0, $1) }
        counters.groupsLive = groups.count
        counters.bytesHeld = groups.bytes + incidentTable.bytes
        return summary
    }
}
