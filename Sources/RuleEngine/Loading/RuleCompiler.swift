import ConfigurationFiles
import ExecEvents

/// Turns one `<Rule>` element into a ``Rule``, reporting the first problem with its source offset.
/// Elements the engine does not use (`TriggerEventDisplay`, `CustomerScope`, `IncidentTitle`, …) are
/// ignored.
struct RuleCompiler {
    let file: String
    let locator: SourceLocator

    /// Compiles the rule; `warnings` gets, for a rule that compiles, every place it names an
    /// attribute no source produces (a misspelt `procNam` would silently never match).
    func compile(_ element: XMLElement, warnings: inout [PositionedError]) throws(PositionedError) -> Rule {
        guard let idAttribute = element.attribute("id") ?? element.attribute("natural_id"),
            !idAttribute.value.trimmed.isEmpty
        else {
            throw PositionedError(offset: element.offset, message: "expected attribute id=\"…\" on <Rule>")
        }
        let id = idAttribute.value.trimmed
        let name = try requiredChild("Name", of: element, in: "<Rule id=\"\(id)\">").text.trimmed
        let description = element.child("Description")?.text.trimmed ?? ""
        var isActive = true
        if let active = element.child("active") {
            switch asciiLowercased(active.text.trimmed) {
            case "true": isActive = true
            case "false": isActive = false
            default:
                throw PositionedError(
                    offset: active.text.firstNonSpaceSourceOffset,
                    message: "expected true or false in <active>, found \"\(active.text.trimmed)\""
                )
            }
        }
        let incidentDef = try requiredChild("IncidentDef", of: element, in: "<Rule id=\"\(id)\">")
        let incidentType = try requiredAttribute("eventType", of: incidentDef, example: "PH_RULE_…")
        let severityAttribute = try requiredAttributeNode("severity", of: incidentDef, example: "7")
        guard let severity = Int(severityAttribute.value.trimmed), (0...10).contains(severity) else {
            throw PositionedError(
                offset: severityAttribute.value.startOffset,
                message:
                    "expected a severity from 0 to 10 in severity=\"…\" of <IncidentDef>, found \"\(severityAttribute.value.value)\""
            )
        }
        let pattern = try requiredChild("PatternClause", of: element, in: "<Rule id=\"\(id)\">")
        let windowAttribute = try requiredAttributeNode("window", of: pattern, example: "300")
        guard let window = Int64(windowAttribute.value.trimmed), (1...Rule.maximumWindowSeconds).contains(window) else {
            throw PositionedError(
                offset: windowAttribute.value.startOffset,
                message:
                    "expected a positive number of seconds up to \(Rule.maximumWindowSeconds) (ten years) in window=\"…\" of <PatternClause>, found \"\(windowAttribute.value.value)\""
            )
        }
        let subPatterns = pattern.children(named: "SubPattern")
        guard let subPattern = subPatterns.first else {
            throw PositionedError(offset: pattern.offset, message: "expected a <SubPattern> in <PatternClause>")
        }
        if subPatterns.count > 1 {
            throw PositionedError(
                offset: subPatterns[1].offset,
                message:
                    "multi-subpattern rules are not supported yet: <PatternClause> has \(subPatterns.count) <SubPattern> elements, expected one"
            )
        }
        guard let subName = (subPattern.attribute("name") ?? subPattern.attribute("displayName"))?.value.trimmed,
            !subName.isEmpty
        else {
            throw PositionedError(offset: subPattern.offset, message: "expected attribute name=\"…\" on <SubPattern>")
        }
        let filterElement = try requiredChild("SingleEvtConstr", of: subPattern, in: "<SubPattern name=\"\(subName)\">")
        let filter: FilterExpression
        do {
            filter = try FilterExpression(filterElement.text.value)
        } catch {
            throw PositionedError(
                offset: filterElement.text.sourceOffset(ofDecodedOffset: error.offset),
                message: error.message
            )
        }
        var uses = filter.attributeUses.map { use in
            (use.attribute, filterElement.text.sourceOffset(ofDecodedOffset: use.offset))
        }
        var groupBy: [EventAttribute] = []
        if let groupElement = subPattern.child("GroupByAttr") {
            for item in try Self.parseGroupBy(groupElement.text) {
                groupBy.append(EventAttribute(name: item.text))
                uses.append((groupBy.last!, groupElement.text.sourceOffset(ofDecodedOffset: item.offset)))
            }
        }
        var aggregate = AggregateExpression.countAtLeastOne
        if let aggregateElement = subPattern.child("GroupEvtConstr"), !aggregateElement.text.trimmed.isEmpty {
            do {
                aggregate = try AggregateExpression(aggregateElement.text.value)
                for use in aggregate.attributeUses {
                    uses.append((use.attribute, aggregateElement.text.sourceOffset(ofDecodedOffset: use.offset)))
                }
            } catch {
                throw PositionedError(
                    offset: aggregateElement.text.sourceOffset(ofDecodedOffset: error.offset),
                    message: error.message
                )
            }
        }
        var mappings: [(mapping: IncidentAttributeMapping, offset: Int)] = []
        if let argList = incidentDef.child("ArgList") {
            mappings = try Self.parseArgList(argList.text, subPattern: subName)
            for (mapping, offset) in mappings { uses.append((mapping.attribute, offset)) }
        }
        for (attribute, offset) in uses {
            if let warning = Self.unproducedAttributeWarning(attribute, at: offset) { warnings.append(warning) }
        }
        let position = locator.position(ofOffset: element.offset)
        return Rule(
            id: id,
            name: name,
            description: description,
            isActive: isActive,
            group: element.attribute("group")?.value.trimmed,
            severity: severity,
            category: element.attribute("function")?.value.trimmed ?? "",
            impacts: element.attribute("phIncidentCategory")?.value.trimmed,
            tactics: Self.list(element.attribute("subFunction")),
            techniques: Self.list(element.attribute("technique")),
            incidentType: incidentType,
            windowSeconds: window,
            subPatternName: subName,
            filter: filter,
            groupBy: groupBy,
            aggregate: aggregate,
            incidentAttributes: mappings.map(\.mapping),
            location: RuleLocation(file: file, line: position.line, column: position.column)
        )
    }

    // MARK: - Pieces

    private func requiredChild(
        _ name: String,
        of element: XMLElement,
        in context: String
    ) throws(PositionedError) -> XMLElement {
        guard let child = element.child(name) else {
            throw PositionedError(offset: element.offset, message: "expected a <\(name)> element in \(context)")
        }
        return child
    }

    private func requiredAttributeNode(
        _ name: String,
        of element: XMLElement,
        example: String
    ) throws(PositionedError) -> XMLAttribute {
        guard let attribute = element.attribute(name), !attribute.value.trimmed.isEmpty else {
            throw PositionedError(
                offset: element.offset,
                message: "expected attribute \(name)=\"\(example)\" on <\(element.name)>"
            )
        }
        return attribute
    }

    private func requiredAttribute(
        _ name: String,
        of element: XMLElement,
        example: String
    ) throws(PositionedError) -> String {
        try requiredAttributeNode(name, of: element, example: example).value.trimmed
    }

    /// A comma-separated attribute value as a list (`subFunction="Execution, Persistence"`).
    private static func list(_ attribute: XMLAttribute?) -> [String] {
        guard let attribute else { return [] }
        return attribute.value.value.split(separator: ",").map { String($0).trimmingXMLSpace() }.filter { !$0.isEmpty }
    }

    /// Splits text at commas, returning each trimmed item with the decoded offset where it starts.
    static func items(_ text: DecodedText) -> [(text: String, offset: Int)] {
        let bytes = Array(text.value.utf8)
        var result: [(String, Int)] = []
        var start = 0
        for k in 0...bytes.count where k == bytes.count || bytes[k] == UInt8(ascii: ",") {
            var a = start
            var b = k
            while a < b, isXMLSpace(bytes[a]) { a += 1 }
            while b > a, isXMLSpace(bytes[b - 1]) { b -= 1 }
            result.append((String(decoding: bytes[a..<b], as: UTF8.self), a))
            start = k + 1
        }
        return result
    }

    /// The attribute names of `<GroupByAttr>` with the decoded offsets where they start.
    static func parseGroupBy(_ text: DecodedText) throws(PositionedError) -> [(text: String, offset: Int)] {
        let items = items(text)
        if items.count == 1, items[0].text.isEmpty { return [] }
        var names: [(text: String, offset: Int)] = []
        for item in items {
            guard isAttributeName(item.text) else {
                throw PositionedError(
                    offset: text.sourceOffset(ofDecodedOffset: item.offset),
                    message: "expected an attribute name in <GroupByAttr>, found \"\(item.text)\""
                )
            }
            names.append(item)
        }
        return names
    }

    /// The mappings of `<ArgList>`, each with the source offset of its item.
    static func parseArgList(
        _ text: DecodedText,
        subPattern: String
    ) throws(PositionedError) -> [(mapping: IncidentAttributeMapping, offset: Int)] {
        var mappings: [(mapping: IncidentAttributeMapping, offset: Int)] = []
        for item in items(text) {
            if item.text.isEmpty { continue }  // a trailing comma
            let at = text.sourceOffset(ofDecodedOffset: item.offset)
            let parts = item.text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw PositionedError(
                    offset: at,
                    message: "expected name = \(subPattern).attribute in <ArgList>, found \"\(item.text)\""
                )
            }
            let name = String(parts[0]).trimmingXMLSpace()
            let reference = String(parts[1]).trimmingXMLSpace()
            let pieces = reference.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            guard isAttributeName(name), pieces.count == 2, isAttributeName(String(pieces[0])),
                isAttributeName(String(pieces[1]))
            else {
                throw PositionedError(
                    offset: at,
                    message: "expected name = \(subPattern).attribute in <ArgList>, found \"\(item.text)\""
                )
            }
            guard String(pieces[0]) == subPattern else {
                throw PositionedError(
                    offset: at,
                    message: "<ArgList> refers to sub-pattern \(pieces[0]), expected \(subPattern)"
                )
            }
            let mapping = IncidentAttributeMapping(
                name: name,
                subPattern: subPattern,
                attribute: EventAttribute(name: String(pieces[1]))
            )
            // The attribute ends the item: point at it rather than at the item.
            let attributeStart = item.offset + item.text.utf8.count - pieces[1].utf8.count
            mappings.append((mapping, text.sourceOffset(ofDecodedOffset: attributeStart)))
        }
        return mappings
    }

    /// A warning for an attribute that is not one of the event's (``EventAttribute/known``), with
    /// the nearest known name when it looks like a typo of one.
    static func unproducedAttributeWarning(_ attribute: EventAttribute, at offset: Int) -> PositionedError? {
        guard case .other(let name) = attribute else { return nil }
        let known = EventAttribute.known.map(\.name)
        let suggestion = KeySuggestion.nearest(to: name, among: known).map { "; did you mean \"\($0)\"?" } ?? ""
        return PositionedError(
            offset: offset,
            message: "no source produces attribute \"\(name)\": events never carry it\(suggestion)"
        )
    }

    private static func isAttributeName(_ text: String) -> Bool {
        guard let first = text.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
        return text.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "_")
        }
    }
}

extension String {
    func trimmingXMLSpace() -> String {
        let utf8 = self.utf8
        guard let first = utf8.firstIndex(where: { !isXMLSpace($0) }) else { return "" }
        let last = utf8.lastIndex(where: { !isXMLSpace($0) })!
        return String(self[first...last])
    }
}
