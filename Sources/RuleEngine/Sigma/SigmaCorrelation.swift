import ExecEvents
import YAML

/// A Sigma correlation rule (`correlation:` section, Sigma correlation specification 2.0) as read
/// from its document, before the rules it names are looked up among the loaded ones.
///
/// Every type runs on the engine's sliding window: the rule's filter is "any of the referenced
/// rules' detections", its group the `group-by` fields (after the host name), its window the
/// `timespan`. `event_count` and `value_count` compare `COUNT(*)` or `COUNT(DISTINCT field)` as the
/// condition says. `temporal` and `temporal_ordered` tag each event's window entry with the
/// referenced rule it matched (``CorrelatedRules``) and count the distinct tags: all the rules
/// unless the condition asks for fewer (`temporal`), all of them in their order
/// (`temporal_ordered`); their `aliases` give a group field per rule. The engine evaluates a window
/// when an event arrives, so only conditions that an arriving event can make true (`gt`, `gte`)
/// are accepted. A correlation of correlations is refused by the loader.
struct SigmaCorrelation: Sendable {
    var id: String
    var title: String
    var description: String
    var severity: Int
    var attack: AttackTags
    var author: String?
    /// The correlation's own `name` (other correlations could name it).
    var name: String?
    var type: String
    var references: [(name: String, mark: YAMLMark)]
    /// The group fields as event attributes; an alias is `.other(alias name)`.
    var groupBy: [EventAttribute]
    var aliases: [SigmaFieldAlias]
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
        let isTemporal = type == "temporal" || type == "temporal_ordered"
        switch type {
        case "event_count", "value_count", "temporal", "temporal_ordered": break
        default:
            throw SigmaError(
                mark: typeMark,
                message:
                    "unknown correlation type '\(type)': expected event_count, value_count, temporal or temporal_ordered"
            )
        }
        if !isTemporal, let aliases = SigmaMetadata.node(node, "aliases") {
            throw SigmaError(
                mark: aliases.mark,
                message: "'aliases' is supported on temporal and temporal_ordered correlations, not on \(type)"
            )
        }
        let aliases = try fieldAliases(node)
        let references = try referencedRules(node)
        if isTemporal {  // each rule is one of the events the correlation waits for
            var named = Set<String>()
            for reference in references where !named.insert(reference.name).inserted {
                throw SigmaError(mark: reference.mark, message: "rule '\(reference.name)' is named twice in 'rules'")
            }
        }
        let groupBy = try fields(node, "group-by", aliases: aliases.map(\.name))
        guard let timespanNode = SigmaMetadata.node(node, "timespan") else {
            throw SigmaError(mark: node.mark, message: "expected 'timespan' in 'correlation' (e.g. 5m)")
        }
        let windowSeconds = try timespan(try SigmaMetadata.text(node, "timespan") ?? "", at: timespanNode.mark)
        let aggregate = try condition(node, type: type, ruleCount: references.count)
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
            name: try SigmaMetadata.text(document, "name"),
            type: type,
            references: references,
            groupBy: groupBy,
            aliases: aliases,
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
    /// groups on, and an alias name (one of `aliases`) → `.other(alias)`.
    static func fields(_ node: YAMLNode, _ key: String, aliases: [String] = []) throws(SigmaError) -> [EventAttribute] {
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
            let attribute =
                aliases.contains(name) ? EventAttribute.other(name) : try groupAttribute(name, at: mark, in: "'\(key)'")
            if !attributes.contains(attribute) { attributes.append(attribute) }
        }
        return attributes
    }

    /// The event attribute a Sigma field groups on. `Image` groups on the resolved executable path
    /// (`exePath`), as Sysmon's Image is.
    static func groupAttribute(
        _ name: String,
        at mark: YAMLMark,
        in place: String
    ) throws(SigmaError) -> EventAttribute {
        guard let mapped = SigmaField.attributes[name] else {
            throw SigmaError(
                mark: mark,
                message: "unknown field '\(name)' in \(place): execwatch's process_creation fields are "
                    + SigmaField.attributes.keys.sorted().joined(separator: ", ")
            )
        }
        return name == "Image" ? EventAttribute.exePath : mapped[0]
    }

    /// `aliases:` (temporal correlations): alias name → {rule name or id: Sigma field}.
    static func fieldAliases(_ node: YAMLNode) throws(SigmaError) -> [SigmaFieldAlias] {
        guard let value = SigmaMetadata.node(node, "aliases") else { return [] }
        guard case .mapping(let entries, _) = value, !entries.isEmpty else {
            throw SigmaError(
                mark: value.mark,
                message: "expected a mapping in 'aliases': alias name → (rule name → field)"
            )
        }
        var aliases: [SigmaFieldAlias] = []
        for entry in entries {
            guard case .scalar(let key) = entry.key, !key.isNull, !key.value.isEmpty else {
                throw SigmaError(mark: entry.key.mark, message: "expected an alias name in 'aliases'")
            }
            let name = key.value
            if SigmaField.attributes[name] != nil || SigmaField.unavailable[name] != nil {
                throw SigmaError(mark: key.mark, message: "alias '\(name)' has the name of a Sigma field")
            }
            guard case .other = EventAttribute(name: name) else {
                throw SigmaError(mark: key.mark, message: "alias '\(name)' has the name of an event attribute")
            }
            guard case .mapping(let sources, _) = entry.value, !sources.isEmpty else {
                throw SigmaError(
                    mark: entry.value.mark,
                    message: "expected a mapping of rule name to field for alias '\(name)'"
                )
            }
            var alias = SigmaFieldAlias(name: name, mark: key.mark, sources: [])
            for source in sources {
                guard case .scalar(let rule) = source.key, !rule.isNull, !rule.value.isEmpty else {
                    throw SigmaError(mark: source.key.mark, message: "expected a rule name or id in alias '\(name)'")
                }
                guard case .scalar(let field) = source.value, !field.isNull else {
                    throw SigmaError(mark: source.value.mark, message: "expected a field name in alias '\(name)'")
                }
                let attribute = try groupAttribute(
                    field.value,
                    at: field.mark,
                    in: "alias '\(name)' for rule '\(rule.value)'"
                )
                alias.sources.append((rule.value, rule.mark, attribute))
            }
            aliases.append(alias)
        }
        return aliases
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
    /// values are counted) → the engine's aggregate. For `temporal` the count is of the distinct
    /// rules matched (`ruleCount` when absent, at most `ruleCount`); `temporal_ordered` asks for all.
    static func condition(_ node: YAMLNode, type: String, ruleCount: Int) throws(SigmaError) -> AggregateExpression {
        let isTemporal = type == "temporal" || type == "temporal_ordered"
        var term = isTemporal ? "COUNT(DISTINCT \(CorrelatedRules.tagAttribute.name))" : "COUNT(*)"
        if isTemporal, SigmaMetadata.node(node, "condition") == nil {
            return try aggregate("\(term) >= \(ruleCount)", at: node.mark)
        }
        guard let condition = SigmaMetadata.node(node, "condition"), case .mapping(let entries, _) = condition else {
            throw SigmaError(
                mark: SigmaMetadata.node(node, "condition")?.mark ?? node.mark,
                message: "expected a 'condition' mapping in 'correlation' (e.g. gte: 10)"
            )
        }
        var comparison: (op: String, count: Int64, key: YAMLScalar)?
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
                comparison = (key.value == "gt" ? ">" : ">=", count, key)
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
        if isTemporal {
            let written = "\(comparison.key.value): \(comparison.count)"
            let needed = comparison.op == ">" ? comparison.count + 1 : comparison.count
            if needed > ruleCount {
                throw SigmaError(
                    mark: comparison.key.mark,
                    message:
                        "condition '\(written)' can never hold: a \(type) correlation counts the distinct rules matched, and this one names \(ruleCount)"
                )
            }
            if type == "temporal_ordered", needed != ruleCount {
                throw SigmaError(
                    mark: comparison.key.mark,
                    message:
                        "condition '\(written)' is not supported: a temporal_ordered correlation needs all \(ruleCount) rules in their order"
                )
            }
        }
        return try aggregate("\(term) \(comparison.op) \(comparison.count)", at: condition.mark)
    }

    /// The engine's aggregate for a condition read above.
    private static func aggregate(_ text: String, at mark: YAMLMark) throws(SigmaError) -> AggregateExpression {
        do {
            return try AggregateExpression(text)
        } catch {
            throw SigmaError(mark: mark, message: "the condition does not compile: \(error)")
        }
    }

    var isTemporal: Bool { type == "temporal" || type == "temporal_ordered" }

    /// The engine rule correlating `referenced` (the rules `references` name, in that order).
    /// `resolve` gives the id of a rule name or id (aliases name rules too); an alias naming a rule
    /// the correlation does not, or giving no field for one it does, is an error at its place.
    func rule(
        correlating referenced: [Rule],
        resolve: (String) -> String,
        file: String,
        sourceReference: String
    ) throws(SigmaError) -> Rule {
        let roots = referenced.map(\.filter.root)
        let filter = FilterExpression(
            root: roots.count == 1 ? roots[0] : .or(roots),
            text: "Sigma correlation \(id) of " + referenced.map(\.id).joined(separator: ", ")
        )
        let group = [EventAttribute.hostName] + groupBy.filter { $0 != .hostName }
        var correlated: CorrelatedRules?
        if isTemporal {
            correlated = CorrelatedRules(
                filters: referenced.map(\.filter),
                groupSources: try groupSources(group, referenced: referenced.map(\.id), resolve: resolve),
                ordered: type == "temporal_ordered"
            )
        }
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
            sourceReference: sourceReference,
            correlatedRules: correlated
        )
    }

    /// For each referenced rule (by id, in order), the attributes its events' group values come
    /// from: `group`, each alias replaced by the field it gives for that rule.
    private func groupSources(
        _ group: [EventAttribute],
        referenced: [String],
        resolve: (String) -> String
    ) throws(SigmaError) -> [[EventAttribute]] {
        var fieldsByAlias: [String: [String: EventAttribute]] = [:]
        for alias in aliases {
            var fields: [String: EventAttribute] = [:]
            for source in alias.sources {
                let id = resolve(source.rule)
                guard referenced.contains(id) else {
                    throw SigmaError(
                        mark: source.mark,
                        message:
                            "alias '\(alias.name)' names rule '\(source.rule)', which is not one of the correlation's rules"
                    )
                }
                fields[id] = source.attribute
            }
            for (position, id) in referenced.enumerated() where fields[id] == nil {
                throw SigmaError(
                    mark: alias.mark,
                    message:
                        "alias '\(alias.name)' gives no field for rule '\(references[position].name)': each rule the correlation names needs one"
                )
            }
            fieldsByAlias[alias.name] = fields
        }
        return referenced.map { id in
            group.map { attribute in
                if case .other(let name) = attribute, let field = fieldsByAlias[name]?[id] { return field }
                return attribute
            }
        }
    }
}

/// One entry of a temporal correlation's `aliases`: a group field named `name` that is, in the
/// events of each rule named, the field given for it.
struct SigmaFieldAlias: Sendable {
    var name: String
    var mark: YAMLMark
    var sources: [(rule: String, mark: YAMLMark, attribute: EventAttribute)]
}

/// A correlation rule read from `file`, waiting for the loader to find the rules it names.
struct PendingCorrelation: Sendable {
    var correlation: SigmaCorrelation
    var file: String
    var sourceReference: String
}
