import ConfigurationFiles
import ExecEvents
import YAML

/// A Sigma rule that cannot be loaded: where (a YAML mark) and what construct.
struct SigmaError: Error {
    var mark: YAMLMark
    var message: String
}

/// Compiles a Sigma `detection` block into the engine's filter tree.
///
/// Semantics (the specification's "Detection" section and the modifiers appendix): values are
/// matched case-insensitively (ASCII letters) unless `cased`; `*` and `?` are wildcards, `\`
/// escapes them and itself; a list of values is OR (`all` makes it AND), a map is AND, a list of maps
/// is OR; `neq` negates. Modifiers apply in the order written.
struct SigmaDetectionCompiler {
    /// Compiles every search identifier and the condition.
    static func compile(_ detection: YAMLNode) throws(SigmaError) -> FilterNode {
        guard case .mapping(let entries, let mark) = detection else {
            throw SigmaError(
                mark: detection.mark,
                message: "expected a mapping of search identifiers and a condition in 'detection'"
            )
        }
        var identifiers: [(name: String, node: FilterNode)] = []
        var condition: YAMLNode?
        for entry in entries {
            let name = try SigmaYAML.keyText(entry.key)
            switch name {
            case "condition": condition = entry.value
            case "timeframe":
                throw SigmaError(
                    mark: entry.key.mark,
                    message:
                        "'timeframe' in detection (Sigma 1 aggregations) is not supported: write a correlation rule with 'timespan'"
                )
            default:
                if identifiers.contains(where: { $0.name == name }) {
                    throw SigmaError(mark: entry.key.mark, message: "search identifier '\(name)' is defined twice")
                }
                identifiers.append((name, try compileIdentifier(entry.value, name: name)))
            }
        }
        guard let condition else {
            throw SigmaError(mark: mark, message: "expected a 'condition' in 'detection'")
        }
        let names = identifiers.map(\.name)
        var parsed: [SigmaCondition] = []
        switch condition {
        case .scalar(let scalar):
            parsed.append(try parseCondition(scalar, names: names))
        case .sequence(let items, let listMark):
            guard !items.isEmpty else { throw SigmaError(mark: listMark, message: "expected at least one condition") }
            for item in items {
                guard case .scalar(let scalar) = item else {
                    throw SigmaError(mark: item.mark, message: "expected a condition text in the list of conditions")
                }
                parsed.append(try parseCondition(scalar, names: names))
            }
        case .mapping(_, let m):
            throw SigmaError(mark: m, message: "expected a condition text (or a list of them), found a mapping")
        }
        let table = Dictionary(identifiers.map { ($0.name, $0.node) }, uniquingKeysWith: { a, _ in a })
        let nodes = parsed.map { filterNode($0, table) }
        return nodes.count == 1 ? nodes[0] : .or(nodes)
    }

    private static func filterNode(_ condition: SigmaCondition, _ table: [String: FilterNode]) -> FilterNode {
        switch condition {
        case .identifier(let name): table[name]!
        case .and(let terms): .and(terms.map { filterNode($0, table) })
        case .or(let terms): .or(terms.map { filterNode($0, table) })
        case .not(let term): .not(filterNode(term, table))
        }
    }

    private static func parseCondition(_ scalar: YAMLScalar, names: [String]) throws(SigmaError) -> SigmaCondition {
        if scalar.value.contains("|") {
            throw SigmaError(
                mark: scalar.mark,
                message:
                    "aggregation in a condition ('| count() …', Sigma 1) is not supported: write a correlation rule"
            )
        }
        do {
            return try SigmaConditionParser.parse(scalar.value, identifiers: names)
        } catch {
            throw SigmaError(
                mark: SigmaYAML.mark(in: scalar, atOffset: error.offset),
                message: "condition: \(error.message)"
            )
        }
    }

    // MARK: - Search identifiers

    private static func compileIdentifier(_ node: YAMLNode, name: String) throws(SigmaError) -> FilterNode {
        switch node {
        case .mapping(let entries, let mark):
            guard !entries.isEmpty else {
                throw SigmaError(mark: mark, message: "search identifier '\(name)' is empty")
            }
            return try compileMap(entries)
        case .sequence(let items, let mark):
            guard !items.isEmpty else {
                throw SigmaError(mark: mark, message: "search identifier '\(name)' is an empty list")
            }
            if items.allSatisfy({ if case .mapping = $0 { true } else { false } }) {
                var alternatives: [FilterNode] = []
                for item in items {
                    guard case .mapping(let entries, let itemMark) = item else { continue }
                    guard !entries.isEmpty else {
                        throw SigmaError(mark: itemMark, message: "empty mapping in '\(name)'")
                    }
                    alternatives.append(try compileMap(entries))
                }
                return alternatives.count == 1 ? alternatives[0] : .or(alternatives)
            }
            if items.allSatisfy({ if case .scalar = $0 { true } else { false } }) {
                return try compileValues(
                    node,
                    field: "",
                    attributes: SigmaField.keywordAttributes,
                    modifiers: [],
                    keyMark: mark
                )
            }
            throw SigmaError(
                mark: mark,
                message:
                    "search identifier '\(name)' mixes maps and plain values in one list: write them as separate identifiers"
            )
        case .scalar(let scalar):
            return try compileValues(
                node,
                field: "",
                attributes: SigmaField.keywordAttributes,
                modifiers: [],
                keyMark: scalar.mark
            )
        }
    }

    private static func compileMap(_ entries: [YAMLMapEntry]) throws(SigmaError) -> FilterNode {
        var terms: [FilterNode] = []
        for entry in entries {
            let key = try SigmaYAML.keyText(entry.key)
            let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let field = parts[0]
            let modifiers = Array(parts.dropFirst())
            let attributes: [EventAttribute]
            if field.isEmpty {
                attributes = SigmaField.keywordAttributes
            } else if let known = SigmaField.attributes[field] {
                attributes = known
            } else if let reason = SigmaField.unavailable[field] {
                throw SigmaError(
                    mark: entry.key.mark,
                    message: "field '\(field)' cannot apply to Linux process events: \(reason)"
                )
            } else {
                let names = SigmaField.attributes.keys.sorted()
                let suggestion = KeySuggestion.nearest(to: field, among: names).map { "; did you mean '\($0)'?" } ?? ""
                throw SigmaError(
                    mark: entry.key.mark,
                    message:
                        "field '\(field)' is not a field of Linux process_creation events (known: \(names.joined(separator: ", ")))\(suggestion)"
                )
            }
            terms.append(
                try compileValues(
                    entry.value,
                    field: field,
                    attributes: attributes,
                    modifiers: modifiers,
                    keyMark: entry.key.mark
                )
            )
        }
        return terms.count == 1 ? terms[0] : .and(terms)
    }

    // MARK: - Values and modifiers

    private static func compileValues(
        _ node: YAMLNode,
        field: String,
        attributes: [EventAttribute],
        modifiers names: [String],
        keyMark: YAMLMark
    ) throws(SigmaError) -> FilterNode {
        var modifiers = try SigmaModifiers(names, mark: keyMark)
        if field.isEmpty, modifiers.anchor == nil, case .text = modifiers.kind {
            // A keyword is searched for anywhere in the event's text.
            modifiers.anchor = .contains
        }
        var scalars: [YAMLScalar] = []
        switch node {
        case .scalar(let scalar): scalars = [scalar]
        case .sequence(let items, let mark):
            guard !items.isEmpty else {
                throw SigmaError(mark: mark, message: "expected at least one value for '\(field)'")
            }
            for item in items {
                guard case .scalar(let scalar) = item else {
                    throw SigmaError(
                        mark: item.mark,
                        message: "expected a plain value in the list of '\(field)', found a collection"
                    )
                }
                if scalar.isNull {
                    throw SigmaError(
                        mark: scalar.mark,
                        message:
                            "null cannot be part of a list of values (specification, Special Field Values): use its own selection"
                    )
                }
                scalars.append(scalar)
            }
        case .mapping(_, let mark):
            throw SigmaError(
                mark: mark,
                message: "expected a value or a list of values for '\(field)', found a mapping"
            )
        }
        if modifiers.all && scalars.count < 2 {
            throw SigmaError(
                mark: keyMark,
                message: "modifier 'all' needs a list of at least two values (specification, Generic Modifiers)"
            )
        }
        // Each value may expand into alternatives (windash, base64offset): any variant of a value,
        // then any value (all of them with `all`).
        var groups: [FilterNode] = []
        for scalar in scalars {
            let variants = try modifiers.tests(for: scalar, field: field).map {
                FilterNode.sigma(SigmaFieldTest(field: field, attributes: attributes, test: $0))
            }
            groups.append(variants.count == 1 ? variants[0] : .or(variants))
        }
        let node: FilterNode = groups.count == 1 ? groups[0] : (modifiers.all ? .and(groups) : .or(groups))
        return modifiers.negated ? .not(node) : node
    }
}

/// The modifiers of one field key, checked for combinations that make sense.
struct SigmaModifiers {
    enum Transform { case base64, base64offset, windash }
    enum Anchor { case contains, startswith, endswith }
    enum Kind {
        case text
        case regex(ignoreCase: Bool, multiline: Bool, dotAll: Bool)
        case exists
        case number(ComparisonOperator)
        case fieldReference
    }

    var transforms: [Transform] = []
    var anchor: Anchor?
    var kind = Kind.text
    var all = false
    var cased = false
    var negated = false
    let mark: YAMLMark

    init(_ names: [String], mark: YAMLMark) throws(SigmaError) {
        self.mark = mark
        var inRegex = false
        for name in names {
            if inRegex, name == "i" || name == "m" || name == "s" {
                guard case .regex(var i, var m, var s) = kind else { continue }
                switch name {
                case "i": i = true
                case "m": m = true
                default: s = true
                }
                kind = .regex(ignoreCase: i, multiline: m, dotAll: s)
                continue
            }
            switch name {
            case "contains", "startswith", "endswith":
                guard anchor == nil else {
                    throw refuse("modifiers '\(name)' and another of contains/startswith/endswith together")
                }
                anchor = name == "contains" ? .contains : (name == "startswith" ? .startswith : .endswith)
            case "all": all = true
            case "cased": cased = true
            case "neq": negated = true
            case "base64": transforms.append(.base64)
            case "base64offset": transforms.append(.base64offset)
            case "windash": transforms.append(.windash)
            case "re":
                try setKind(.regex(ignoreCase: false, multiline: false, dotAll: false), name)
                inRegex = true
            case "exists": try setKind(.exists, name)
            case "gt": try setKind(.number(.greater), name)
            case "gte": try setKind(.number(.greaterOrEqual), name)
            case "lt": try setKind(.number(.less), name)
            case "lte": try setKind(.number(.lessOrEqual), name)
            case "fieldref": try setKind(.fieldReference, name)
            case "i", "m", "s":
                throw refuse("modifier '\(name)' is a sub-modifier of 're' and must follow it")
            case "utf16", "utf16le", "utf16be", "wide":
                throw refuse(
                    "modifier '\(name)' cannot apply to Linux process events: their text is UTF-8 bytes, never UTF-16"
                )
            case "cidr":
                throw refuse(
                    "modifier 'cidr' cannot apply to Linux process events: no field of process_creation is an IP address"
                )
            case "expand":
                throw refuse(
                    "modifier 'expand' needs placeholder values execwatch does not define (the specification asks to reject such rules)"
                )
            case "minute", "hour", "day", "week", "month", "year":
                throw refuse(
                    "time modifier '\(name)' cannot apply: no field of Linux process_creation events is a date"
                )
            case "":
                throw refuse("empty modifier ('||' or a trailing '|')")
            default:
                throw refuse("unknown modifier '\(name)'")
            }
        }
        switch kind {
        case .text: break
        default:
            if anchor != nil || !transforms.isEmpty {
                throw refuse(
                    "modifier '\(names.first { ["re", "exists", "gt", "gte", "lt", "lte", "fieldref"].contains($0) }!)' cannot be combined with contains/startswith/endswith/base64/base64offset/windash"
                )
            }
        }
    }

    private mutating func setKind(_ new: Kind, _ name: String) throws(SigmaError) {
        guard case .text = kind else { throw refuse("modifier '\(name)' together with another type modifier") }
        kind = new
    }

    private func refuse(_ message: String) -> SigmaError {
        SigmaError(mark: mark, message: message)
    }

    /// The tests one value stands for (several when a modifier expands it; they are alternatives).
    func tests(for scalar: YAMLScalar, field: String) throws(SigmaError) -> [SigmaFieldTest.Test] {
        let subject = field.isEmpty ? "a keyword" : "'\(field)'"
        if scalar.isNull {
            guard case .text = kind, anchor == nil, transforms.isEmpty else {
                throw SigmaError(mark: scalar.mark, message: "null cannot take value modifiers")
            }
            return [.isNull]
        }
        switch kind {
        case .exists:
            guard let present = scalar.bool else {
                throw SigmaError(
                    mark: scalar.mark,
                    message: "modifier 'exists' expects true or false, found '\(scalar.value)'"
                )
            }
            return [.exists(present)]
        case .number(let op):
            guard let number = Number.parse(Array(scalar.value.utf8)) else {
                throw SigmaError(
                    mark: scalar.mark,
                    message: "numeric modifier expects a number, found '\(scalar.value)'"
                )
            }
            return [.number(op, number)]
        case .fieldReference:
            guard let others = SigmaField.attributes[scalar.value] else {
                throw SigmaError(
                    mark: scalar.mark,
                    message: "fieldref names '\(scalar.value)', not a field of Linux process_creation events"
                )
            }
            return [.fieldReference(others, cased: cased)]
        case .regex(let ignoreCase, let multiline, let dotAll):
            do {
                var regex = try Regex(scalar.value)
                regex = regex.matchingSemantics(.unicodeScalar)
                if ignoreCase { regex = regex.ignoresCase() }
                if multiline { regex = regex.anchorsMatchLineEndings() }
                if dotAll { regex = regex.dotMatchesNewlines() }
                var shown = scalar.value
                let flags = (ignoreCase ? "i" : "") + (multiline ? "m" : "") + (dotAll ? "s" : "")
                if !flags.isEmpty { shown = "(?\(flags))" + shown }
                return [.regex(CompiledRegex(pattern: shown, regex: regex, canonicalEquivalence: false))]
            } catch {
                throw SigmaError(
                    mark: scalar.mark,
                    message: "regular expression of \(subject) does not compile: \(error)"
                )
            }
        case .text:
            var variants = [SigmaPattern.tokens(of: scalar.value)]
            for transform in transforms {
                switch transform {
                case .base64, .base64offset:
                    var next: [[SigmaPattern.Token]] = []
                    for tokens in variants {
                        var bytes: [UInt8] = []
                        for token in tokens {
                            guard case .byte(let b) = token else {
                                throw SigmaError(
                                    mark: scalar.mark,
                                    message:
                                        "modifier '\(transform)' cannot encode a value with wildcards or windash dashes"
                                )
                            }
                            bytes.append(b)
                        }
                        if transform == .base64 {
                            next.append(SigmaPattern.literal(Base64.encode(bytes)))
                        } else {
                            next += Base64.offsetVariants(bytes).map(SigmaPattern.literal)
                        }
                    }
                    variants = next
                case .windash:
                    variants = variants.map(Self.windash)
                }
            }
            return variants.map { tokens in
                var tokens = tokens
                switch anchor {
                case .contains:
                    tokens.insert(.anyRun, at: 0)
                    tokens.append(.anyRun)
                case .startswith: tokens.append(.anyRun)
                case .endswith: tokens.insert(.anyRun, at: 0)
                case nil: break
                }
                return .pattern(SigmaPattern(tokens: tokens, cased: cased))
            }
        }
    }

    /// `windash`: each `-`, `/`, `–`, `—`, `―` stands for any of them.
    static func windash(_ tokens: [SigmaPattern.Token]) -> [SigmaPattern.Token] {
        var out: [SigmaPattern.Token] = []
        var k = 0
        while k < tokens.count {
            if tokens[k] == .byte(UInt8(ascii: "-")) || tokens[k] == .byte(UInt8(ascii: "/")) {
                out.append(.dash)
                k += 1
                continue
            }
            if k + 2 < tokens.count, tokens[k] == .byte(0xE2), tokens[k + 1] == .byte(0x80),
                case .byte(let third) = tokens[k + 2], (0x93...0x95).contains(third)
            {
                out.append(.dash)
                k += 3
                continue
            }
            out.append(tokens[k])
            k += 1
        }
        return out
    }
}

/// Base64 (RFC 4648, with padding) for the `base64` and `base64offset` modifiers.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var k = 0
        while k < bytes.count {
            let b0 = bytes[k]
            let b1 = k + 1 < bytes.count ? bytes[k + 1] : 0
            let b2 = k + 2 < bytes.count ? bytes[k + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(k + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(k + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            k += 3
        }
        return out
    }

    /// The three encodings of `bytes` at offsets 0, 1 and 2 of a longer text, cut to the characters
    /// that do not depend on the surrounding bytes (as pySigma's `base64offset` does).
    static func offsetVariants(_ bytes: [UInt8]) -> [[UInt8]] {
        let startOffsets = [0, 2, 3]
        let endOffsets = [0, 3, 2]  // characters cut from the end (0: none)
        var variants: [[UInt8]] = []
        for shift in 0..<3 {
            let encoded = encode([UInt8](repeating: 0x20, count: shift) + bytes)
            let start = startOffsets[shift]
            let end = encoded.count - endOffsets[(bytes.count + shift) % 3]
            variants.append(start < end ? Array(encoded[start..<end]) : [])
        }
        return variants
    }
}

/// Reading YAML nodes the way Sigma files use them.
enum SigmaYAML {
    static func keyText(_ node: YAMLNode) throws(SigmaError) -> String {
        guard case .scalar(let scalar) = node, !scalar.isNull else {
            throw SigmaError(mark: node.mark, message: "expected a text key")
        }
        return scalar.value
    }

    /// The mark of a byte offset inside a scalar: exact for a plain or quoted one-line scalar
    /// (the opening quote counted), else the scalar's own mark.
    static func mark(in scalar: YAMLScalar, atOffset offset: Int) -> YAMLMark {
        guard !scalar.value.utf8.contains(0x0A) else { return scalar.mark }
        switch scalar.style {
        case .plain: return YAMLMark(line: scalar.mark.line, column: scalar.mark.column + offset)
        case .singleQuoted, .doubleQuoted:
            if scalar.value.utf8.contains(UInt8(ascii: "'")) || scalar.value.utf8.contains(UInt8(ascii: "\\")) {
                return scalar.mark
            }
            return YAMLMark(line: scalar.mark.line, column: scalar.mark.column + 1 + offset)
        case .literal, .folded: return scalar.mark
        }
    }
}
