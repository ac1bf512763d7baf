import ExecEvents
import YAML

/// Reads Sigma rule files (`.yml`/`.yaml`, one or several YAML documents) into engine rules.
///
/// Only rules of `logsource: {category: process_creation, product: linux}` apply to execwatch's
/// events; others are skipped with the reason. A rule is compiled on its own, so a bad one is
/// reported (file, line, column, construct) and the others beside it still load.
///
/// Incidents of a Sigma rule look like those of PH_Rule_TH_Linux_23: one per (rule, hostName, user,
/// procName, swParam), repeats within 300 s counted into it.
public enum SigmaRuleDocument {
    /// The window and group of every Sigma detection rule (as PH_Rule_TH_Linux_23's).
    static let windowSeconds: Int64 = 300
    static let groupBy: [EventAttribute] = [.hostName, .user, .procName, .swParam]

    /// Parses a file's bytes. `sourceReference` is kept in each rule (a URL; default the file path).
    public static func parse(_ bytes: [UInt8], file: String, sourceReference: String? = nil) -> RuleLoadResult {
        let documents: [YAMLNode]
        do {
            documents = try YAMLReader.documents(in: bytes)
        } catch {
            return RuleLoadResult(errors: [
                RuleError(file: file, line: error.mark.line, column: error.mark.column, message: error.message)
            ])
        }
        var result = RuleLoadResult()
        if documents.isEmpty {
            result.errors.append(
                RuleError(file: file, line: 0, column: 0, message: "no YAML document in a Sigma rule file")
            )
        }
        for document in documents {
            let id = (try? SigmaMetadata.text(document, "id")) ?? nil
            do {
                switch try compile(document, file: file, sourceReference: sourceReference ?? file) {
                case .rule(let rule):
                    result.rules.append(rule)
                    if let name = try? SigmaMetadata.text(document, "name"), !name.isEmpty {
                        result.sigmaNames[name] = rule.id
                    }
                case .correlation(let correlation):
                    result.pendingCorrelations.append(
                        PendingCorrelation(
                            correlation: correlation,
                            file: file,
                            sourceReference: sourceReference ?? file
                        )
                    )
                case .skipped(let mark, let reason):
                    result.skipped.append(
                        RuleError(file: file, line: mark.line, column: mark.column, message: reason, ruleId: id)
                    )
                }
            } catch {
                result.errors.append(
                    RuleError(
                        file: file,
                        line: error.mark.line,
                        column: error.mark.column,
                        message: error.message,
                        ruleId: id
                    )
                )
            }
        }
        return result
    }

    public static func parse(_ text: String, file: String, sourceReference: String? = nil) -> RuleLoadResult {
        parse(Array(text.utf8), file: file, sourceReference: sourceReference)
    }

    enum Outcome {
        case rule(Rule)
        case correlation(SigmaCorrelation)
        case skipped(YAMLMark, String)
    }

    static func compile(_ document: YAMLNode, file: String, sourceReference: String) throws(SigmaError) -> Outcome {
        guard case .mapping = document else {
            throw SigmaError(
                mark: document.mark,
                message: "expected a Sigma rule (a mapping with title, logsource, detection)"
            )
        }
        if let action = try SigmaMetadata.text(document, "action") {
            throw SigmaError(
                mark: SigmaMetadata.node(document, "action")!.mark,
                message:
                    "'action: \(action)' rule collections (Sigma 1) are not supported: write each rule as a whole document"
            )
        }
        if let correlation = SigmaMetadata.node(document, "correlation") {
            return .correlation(try SigmaCorrelation.read(document, correlation))
        }
        if SigmaMetadata.node(document, "filter") != nil, SigmaMetadata.node(document, "detection") == nil {
            throw SigmaError(mark: document.mark, message: "Sigma filters (meta-filters) are not supported")
        }
        guard let title = try SigmaMetadata.text(document, "title"), !title.isEmpty else {
            throw SigmaError(mark: document.mark, message: "expected 'title' in a Sigma rule")
        }
        guard let id = try SigmaMetadata.text(document, "id"), !id.isEmpty else {
            throw SigmaError(mark: document.mark, message: "expected 'id' in a Sigma rule: incidents are keyed by it")
        }
        guard let logsource = SigmaMetadata.node(document, "logsource") else {
            throw SigmaError(mark: document.mark, message: "expected 'logsource' in a Sigma rule")
        }
        let category = try SigmaMetadata.text(logsource, "category")
        let product = try SigmaMetadata.text(logsource, "product")
        let service = try SigmaMetadata.text(logsource, "service")
        if category != "process_creation" || product != "linux" || service != nil {
            var parts: [String] = []
            if let category { parts.append("category \(category)") }
            if let product { parts.append("product \(product)") }
            if let service { parts.append("service \(service)") }
            return .skipped(
                logsource.mark,
                "skipped: logsource is \(parts.isEmpty ? "empty" : parts.joined(separator: ", ")); execwatch evaluates Sigma rules of category process_creation, product linux (no service)"
            )
        }
        guard let detection = SigmaMetadata.node(document, "detection") else {
            throw SigmaError(mark: document.mark, message: "expected 'detection' in a Sigma rule")
        }
        let root = try SigmaDetectionCompiler.compile(detection)
        let severity = try SigmaMetadata.severity(document)
        let status = try SigmaMetadata.text(document, "status")
        let tags = try SigmaMetadata.texts(document, "tags")
        let attack = AttackTags(tags)
        let filter = FilterExpression(root: root, text: "Sigma detection of \(id)")
        return .rule(
            Rule(
                id: id,
                name: title,
                description: try SigmaMetadata.text(document, "description") ?? "",
                isActive: status != "deprecated" && status != "unsupported",
                group: "Sigma",
                severity: severity,
                category: "Security",
                tactics: attack.tactics,
                techniques: attack.techniques,
                incidentType: "SIGMA_PROCESS_CREATION",
                windowSeconds: windowSeconds,
                filter: filter,
                groupBy: groupBy,
                incidentAttributes: groupBy.map {
                    IncidentAttributeMapping(name: $0.name, subPattern: "Filter", attribute: $0)
                },
                location: RuleLocation(file: file, line: document.mark.line, column: document.mark.column),
                author: try SigmaMetadata.text(document, "author"),
                sourceReference: sourceReference
            )
        )
    }

    /// `level` → incident severity.
    static let severities: [String: Int] = ["informational": 1, "low": 3, "medium": 5, "high": 7, "critical": 9]
}

/// Top-level keys of a Sigma document.
enum SigmaMetadata {
    /// The incident severity from `level` (medium, 5, when absent).
    static func severity(_ document: YAMLNode) throws(SigmaError) -> Int {
        guard let levelNode = node(document, "level") else { return 5 }
        let level = try text(document, "level") ?? ""
        guard let mapped = SigmaRuleDocument.severities[level] else {
            throw SigmaError(
                mark: levelNode.mark,
                message: "expected level informational, low, medium, high or critical, found '\(level)'"
            )
        }
        return mapped
    }

    static func node(_ mapping: YAMLNode, _ key: String) -> YAMLNode? {
        guard case .mapping(let entries, _) = mapping else { return nil }
        for entry in entries {
            if case .scalar(let k) = entry.key, k.value == key { return entry.value }
        }
        return nil
    }

    /// A text value (nil when absent or null); a collection there is an error.
    static func text(_ mapping: YAMLNode, _ key: String) throws(SigmaError) -> String? {
        guard let value = node(mapping, key) else { return nil }
        guard case .scalar(let scalar) = value else {
            throw SigmaError(mark: value.mark, message: "expected a text value for '\(key)'")
        }
        return scalar.isNull ? nil : scalar.value
    }

    /// A list of texts (a single text counts as a list of one).
    static func texts(_ mapping: YAMLNode, _ key: String) throws(SigmaError) -> [String] {
        guard let value = node(mapping, key) else { return [] }
        switch value {
        case .scalar(let scalar): return scalar.isNull ? [] : [scalar.value]
        case .sequence(let items, _):
            var texts: [String] = []
            for item in items {
                guard case .scalar(let scalar) = item else {
                    throw SigmaError(mark: item.mark, message: "expected texts in the list '\(key)'")
                }
                texts.append(scalar.value)
            }
            return texts
        case .mapping(_, let mark):
            throw SigmaError(mark: mark, message: "expected a list of texts for '\(key)'")
        }
    }
}

/// MITRE ATT&CK tactics and techniques from Sigma's `attack.*` tags: `attack.t1059.004` → technique
/// `T1059.004`; `attack.command-and-control` → tactic `Command and Control` (as ATT&CK spells it).
/// Group (`attack.g…`) and software (`attack.s…`) tags are not tactics or techniques and are left out.
struct AttackTags {
    var tactics: [String] = []
    var techniques: [String] = []

    static let tacticNames: [String: String] = [
        "reconnaissance": "Reconnaissance", "resource-development": "Resource Development",
        "initial-access": "Initial Access", "execution": "Execution", "persistence": "Persistence",
        "privilege-escalation": "Privilege Escalation", "defense-evasion": "Defense Evasion",
        "credential-access": "Credential Access", "discovery": "Discovery", "lateral-movement": "Lateral Movement",
        "collection": "Collection", "command-and-control": "Command and Control", "exfiltration": "Exfiltration",
        "impact": "Impact",
    ]

    init(_ tags: [String]) {
        for tag in tags {
            let lower = asciiLowercased(tag)
            guard lower.hasPrefix("attack.") else { continue }
            let name = String(lower.dropFirst("attack.".count))
            if let tactic = Self.tacticNames[name] {
                if !tactics.contains(tactic) { tactics.append(tactic) }
            } else if Self.isTechnique(name) {
                let technique = String(
                    decoding: name.utf8.map { $0 == UInt8(ascii: "t") ? UInt8(ascii: "T") : $0 },
                    as: UTF8.self
                )
                if !techniques.contains(technique) { techniques.append(technique) }
            }
        }
    }

    /// `t1234` or `t1234.567`.
    static func isTechnique(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count >= 5, bytes[0] == UInt8(ascii: "t") else { return false }
        let digits = { (c: UInt8) in c >= 0x30 && c <= 0x39 }
        guard bytes[1...4].allSatisfy(digits) else { return false }
        if bytes.count == 5 { return true }
        return bytes.count == 9 && bytes[5] == UInt8(ascii: ".") && bytes[6...].allSatisfy(digits)
    }
}
