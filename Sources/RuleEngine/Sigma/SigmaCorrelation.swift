import ExecEvents
import YAML

/// A Sigma correlation rule (`correlation:` section, Sigma correlation specification 2.0) as read
/// from its document, before the rules it names are looked up among the loaded ones.
///
/// `event_count` and `value_count` run on the engine's sliding window: the rule's filter is "any of
/// the referenced rules' detections", its group the `group-by` fields (after the host name), its
/// window the `timespan`, its aggregate `COUNT(*)` or `COUNT(DISTINCT field)` compared as the
/// condition says. The engine evaluates a window when an event arrives, so only conditions that an
/// arriving event can make true (`gt`, `gte`) are accepted; `temporal` is refused for now.
struct SigmaCorrelation: Sendable {
    var id: String
    var title: String
    var description: String
    var severity: Int
    var attack: AttackTags
    var author: String?
    var type: String
    var references: [(name: String, mark: YAMLMark)]
    var groupBy: [EventAttribute]
    var windowSeconds: Int64
    var aggregate: AggregateExpression
    /// Whether the referenced rules also raise their own incidents (`generate`, default false).
    var generate: Bool
    var mark: YAMLMark
    var isActive: Bool

    /// Reads a document's `correlation:` section (`node`).
    static func read(_ document: YAMLNode, _ node: YAMLNode) throws(SigmaError) -> SigmaCorrelation {
        guard case .mapping = node else {
            throw SigmaError(mark: node.mark, message: "expected a mapping for 'correlation'")
        }
        guard let title = try SigmaMetadata.text(document, "title"), !title.isEmpty else {
            throw SigmaError(mark: document.mark, message: "expected 'title' in a Sigma correlation rule")
        }
        guard let id = try SigmaMetadata.text(document, "id"), !id.isEmpty else {
            throw SigmaError(
                mark: document.mark,
                message: "expected 'id' in a Sigma correlation rule: incidents are keyed by it"
            )
        }
        guard let type = try SigmaMetadata.text(node, "type") else {
            throw SigmaError(mark: node.mark, message: "expected 'type' in 'correlation'")
        }
        let typeMark = SigmaMetadata.node(node, "type")!.mark
        switch type {
        case "event_count", "value_count": break
        case "temporal", "temporal_ordered":
            throw SigmaError(
                mark: typeMark,
                message: "correlation type '\(type)' is not supported yet (event_count and value_count are)"
            )
        default:
            throw SigmaError(
                mark: typeMark,
                message: "unknown correlation type '\(type)': expected event_count, value_count or temporal"
            )
        }
        if let aliases = SigmaMetadata.node(node, "aliases") {
            throw SigmaError(mark: aliases.mark, message: "correlation 'aliases' is not supported")
        }
        let references = try referencedRules(node)
        let groupBy = try fields(node, "group-by")
        guard let timespanNode = SigmaMetadata.node(node, "timespan") else {
            throw SigmaError(mark: node.mark, message: "expected 'timespan' in 'correlation' (e.g. 5m)")
        }
        let windowSeconds = try timespan(try SigmaMetadata.text(node, "timespan") ?? "", at: timespanNode.mark)
        let aggregate = try condition(node, type: type)
        let severity = try SigmaMetadata.severity(document)
        var generate = false
        if let generateNode = SigmaMetadata.node(document, "generate") {
            switch try SigmaMetadata.text(document, "generate") {
            case "true": generate = true
            case "false": generate = false
            default: throw SigmaError(mark: generateNode.mark, message: "expected true or false for 'generate'")
            }
        }
        let status = try SigmaMetadata.text(document, "status")
        return SigmaCorrelation(
            id: id,
            title: title,
            description: try SigmaMetadata.text(document, "description") ?? "",
            severity: severity,
            attack: AttackTags(try SigmaMetadata.texts(document, "tags")),
            author: try SigmaMetadata.text(document, "author"),
            type: type,
            references: references,
            groupBy: groupBy,
            windowSeconds: windowSeconds,
            aggregate: aggregate,
            generate: generate,
            mark: document.mark,
            isActive: status != "deprecated" && status != "unsupported"
        )
    }

    /// `rules:`: the names or ids of the rules correlated (at least one).
    static func referencedRules(_ node: YAMLNode) throws(SigmaError) -> [(name: String, mark: YAMLMark)] {
        guard let rules = SigmaMetadata.node(node, "rules") else {
            throw SigmaError(mark: node.mark, message: "expected 'rules' in 'correlation': the rules it correlates")
        }
        var references: [(name: String, mark: YAMLMark)] = []
        switch rules {
        case .scalar(let scalar) where !scalar.isNull && !scalar.value.isEmpty:
            references.append((scalar.value, scalar.mark))
        case .sequence(let items, _):
            for item in items {
                guard case .scalar(let scalar) = item, !scalar.isNull, !scalar.value.isEmpty else {
                    throw SigmaError(mark: item.mark, message: "expected a rule name or id in 'rules'")
                }
                references.append((scalar.value, scalar.mark))
            }
        default:
            break
        }
        guard !references.isEmpty else {
            throw SigmaError(mark: rules.mark, message: "expected at least one rule name or id in 'rules'")
        }
        return references
    }

    /// `group-by` (or the `condition`'s `field`): Sigma field names → the event attribute each
    /// groups on. `Image` groups on the resolved executable path (`exePath`), as Sysmon's Image is.
    static func fields(_ node: YAMLNode, _ key: String) throws(SigmaError) -> [EventAttribute] {
        guard let value = SigmaMetadata.node(node, key) else { return [] }
        var attributes: [EventAttribute] = []
        let names: [(String, YAMLMark)]
        switch value {
        case .scalar(let scalar): names = scalar.isNull ? [] : [(scalar.value, scalar.mark)]
        case .sequence(let items, _):
            var list: [(String, YAMLMark)] = []
            for item in items {
                guard case .scalar(let scalar) = item else {
                    throw SigmaError(mark: item.mark, message: "expected field names in '\(key)'")
                }
                list.append((scalar.value, scalar.mark))
            }
            names = list
        case .mapping(_, let mark):
            throw SigmaError(mark: mark, message: "expected field names in '\(key)'")
        }
        for (name, mark) in names {
            guard let mapped = SigmaField.attributes[name] else {
                throw SigmaError(
                    mark: mark,
                    message: "unknown field '\(name)' in '\(key)': execwatch's process_creation fields are "
                        + SigmaField.attributes.keys.sorted().joined(separator: ", ")
                )
            }
            let attribute = name == "Image" ? EventAttribute.exePath : mapped[0]
            if !attributes.contains(attribute) { attributes.append(attribute) }
        }
        return attributes
    }

    /// `timespan`: a number and a unit, s, m, h, d or w (`15m`).
    static func timespan(_ text: String, at mark: YAMLMark) throws(SigmaError) -> Int64 {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        guard let unit = text.last, let seconds = units[unit], let count = Int64(text.dropLast()), count > 0,
            count <= Rule.maximumWindowSeconds / seconds
        else {
            throw SigmaError(
                mark: mark,
                message: "expected a timespan such as 30s, 15m, 1h, 2d or 1w (at most ten years), found '\(text)'"
            )
        }
        return count * seconds
    }

    /// `condition`: one of `gt`/`gte` with a count (and for value_count the `field` whose distinct
    /// values are counted) → the engine's aggregate.
    static func condition(_ node: YAMLNode, type: String) throws(SigmaError) -> AggregateExpression {
        guard let condition = SigmaMetadata.node(node, "condition"), case .mapping(let entries, _) = condition else {
            throw SigmaError(
                mark: SigmaMetadata.node(node, "condition")?.mark ?? node.mark,
                message: "expected a 'condition' mapping in 'correlation' (e.g. gte: 10)"
            )
        }
        var comparison: (op: String, count: Int64)?
        var term = "COUNT(*)"
        for entry in entries {
            guard case .scalar(let key) = entry.key else {
                throw SigmaError(mark: entry.key.mark, message: "expected a condition key")
            }
            switch key.value {
            case "gt", "gte":
                guard comparison == nil else {
                    throw SigmaError(mark: key.mark, message: "expected one comparison in the condition")
                }
                guard case .scalar(let value) = entry.value, let count = Int64(value.value), count >= 0 else {
                    throw SigmaError(mark: entry.value.mark, message: "expected a count for '\(key.value)'")
                }
                comparison = (key.value == "gt" ? ">" : ">=", count)
            case "lt", "lte", "eq", "neq":
                throw SigmaError(
                    mark: key.mark,
                    message:
                        "condition '\(key.value)' is not supported: the window is evaluated when an event arrives, so only gt and gte can fire"
                )
            case "field":
                guard type == "value_count" else {
                    throw SigmaError(mark: key.mark, message: "'field' belongs to value_count conditions only")
                }
                guard let attribute = try fields(condition, "field").first else {
                    throw SigmaError(mark: entry.value.mark, message: "expected a field name")
                }
                term = "COUNT(DISTINCT \(attribute.name))"
            default:
                throw SigmaError(mark: key.mark, message: "unknown condition key '\(key.value)'")
            }
        }
        guard let comparison else {
            throw SigmaError(mark: condition.mark, message: "expected gt or gte in the condition")
        }
        if type == "value_count", term == "COUNT(*)" {
            throw SigmaError(mark: condition.mark, message: "expected 'field' in a value_count condition")
        }
        do {
            return try AggregateExpression("\(term) \(comparison.op) \(comparison.count)")
        } catch {
            throw SigmaError(mark: condition.mark, message: "the condition does not compile: \(error)")
        }
    }

    /// The engine rule correlating `referenced` (the rules `references` name, in that order).
    func rule(correlating referenced: [Rule], file: String, sourceReference: String) -> Rule {
        let roots = referenced.map(\.filter.root)
        let filter = FilterExpression(
            root: roots.count == 1 ? roots[0] : .or(roots),
            text: "Sigma correlation \(id) of " + referenced.map(\.id).joined(separator: ", ")
        )
        let group = [EventAttribute.hostName] + groupBy.filter { $0 != .hostName }
        return Rule(
            id: id,
            name: title,
            description: description,
            isActive: isActive,
            group: "Sigma",
            severity: severity,
            category: "Security",
            tactics: attack.tactics,
            techniques: attack.techniques,
            incidentType: "SIGMA_CORRELATION",
            windowSeconds: windowSeconds,
            filter: filter,
            groupBy: group,
            aggregate: aggregate,
            incidentAttributes: group.map {
                IncidentAttributeMapping(name: $0.name, subPattern: "Filter", attribute: $0)
            },
            location: RuleLocation(file: file, line: mark.line, column: mark.column),
            author: author,
            sourceReference: sourceReference
        )
    }
}

/// A correlation rule read from `file`, waiting for the loader to find the rules it names.
struct PendingCorrelation: Sendable {
    var correlation: SigmaCorrelation
    var file: String
    var sourceReference: String
}
