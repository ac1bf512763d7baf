import ExecEvents

/// A compiled `SingleEvtConstr`: attribute names resolved to ``EventAttribute``, constants folded to
/// lower case, regular expressions compiled. Evaluate it with `matches(_:)`.
public struct FilterExpression: Sendable, CustomStringConvertible {
    let root: FilterNode
    /// The expression as written in the rule.
    public let text: String
    /// Every attribute name as written, with its offset in the text given to `init`.
    let attributeUses: [AttributeUse]

    /// Compiles filter text. Errors carry the byte offset in `text` of the offending token.
    public init(_ text: String) throws(ExpressionError) {
        var parser = try FilterParser(text)
        self.root = try parser.parseExpression()
        self.attributeUses = parser.attributeUses
        self.text = text.trimmingXMLSpace()
    }

    /// A filter compiled from another rule language (Sigma): `text` is what it was compiled from.
    init(root: FilterNode, text: String) {
        self.root = root
        self.text = text
        self.attributeUses = []
    }

    /// The canonical form: keywords in upper case, single spaces, strings re-quoted.
    public var description: String { root.rendered() }

    /// Every attribute the filter reads, in order of first use.
    public var attributes: [EventAttribute] {
        var seen: [EventAttribute] = []
        root.visitAttributes { if !seen.contains($0) { seen.append($0) } }
        return seen
    }
}

/// A regular expression of a `REGEXP` constraint, compiled once at load time.
///
/// The regex is held in a class: `Regex` comes from a library built for binary compatibility, so
/// its size is known only at run time, and a value holding it inline made every filter node
/// (``FilterNode``, ``SigmaFieldTest/Test``) one of unknown size, copied through its run-time type
/// on every evaluation.
struct CompiledRegex: Sendable {
    /// `Regex<AnyRegexOutput>` is not declared Sendable (its output type is not). The value is
    /// never mutated after `init`; the only internal state, the lowered program, is built there by
    /// a first match (so concurrent readers later find it built) and is otherwise published
    /// atomically by the standard library. Sharing it across threads is therefore safe.
    private final class Program: @unchecked Sendable {
        let regex: Regex<AnyRegexOutput>
        init(_ regex: Regex<AnyRegexOutput>) { self.regex = regex }
    }

    let pattern: String
    private let program: Program
    var regex: Regex<AnyRegexOutput> { program.regex }
    /// Texts one of which every match contains, checked on bytes before the regex runs (nil: none
    /// known, the regex always runs).
    let requiredLiterals: RequiredLiterals?

    /// A regex with Swift's default matching (characters compared by canonical equivalence).
    init(pattern: String) throws {
        try self.init(pattern: pattern, regex: Regex(pattern), canonicalEquivalence: true)
    }

    /// A regex built by the caller (e.g. with other matching options); `pattern` is how it is shown,
    /// with its flags (`(?i)`). `canonicalEquivalence`: whether the regex compares characters by
    /// canonical equivalence (false for `.unicodeScalar` matching semantics).
    init(pattern: String, regex: Regex<AnyRegexOutput>, canonicalEquivalence: Bool) {
        self.pattern = pattern
        self.program = Program(regex)
        self.requiredLiterals = RequiredLiterals.of(pattern: pattern, canonicalEquivalence: canonicalEquivalence)
        _ = "".contains(regex)  // compile the matching program now, at load time
    }

    /// Whether the regex matches somewhere in `text` (unanchored).
    func isFound(in text: String) -> Bool {
        if let requiredLiterals, !withUTF8Bytes(text, { requiredLiterals.mayMatch($0) }) { return false }
        return text.contains(regex)
    }
}

/// Comparison operators of the filter and aggregate languages.
enum ComparisonOperator: String, Sendable {
    case equal = "="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="

    /// Whether a three-way comparison result satisfies the operator.
    @inline(__always)
    func holds(_ order: Int) -> Bool {
        switch self {
        case .equal: order == 0
        case .notEqual: order != 0
        case .less: order < 0
        case .lessOrEqual: order <= 0
        case .greater: order > 0
        case .greaterOrEqual: order >= 0
        }
    }
}

indirect enum FilterNode: Sendable {
    case and([FilterNode])
    case or([FilterNode])
    case not(FilterNode)
    case compare(EventAttribute, ComparisonOperator, FilterConstant)
    case inList(EventAttribute, negated: Bool, [FilterConstant])
    case contain(EventAttribute, negated: Bool, FilterConstant)
    case regexp(EventAttribute, negated: Bool, CompiledRegex)
    case isNull(EventAttribute, negated: Bool)
    case between(EventAttribute, negated: Bool, FilterConstant, FilterConstant)
    /// A Sigma field condition (Sigma rules compile into the same tree).
    case sigma(SigmaFieldTest)

    func visitAttributes(_ visit: (EventAttribute) -> Void) {
        switch self {
        case .and(let nodes), .or(let nodes): for n in nodes { n.visitAttributes(visit) }
        case .not(let node): node.visitAttributes(visit)
        case .compare(let a, _, _), .inList(let a, _, _), .contain(let a, _, _), .regexp(let a, _, _),
            .isNull(let a, _), .between(let a, _, _, _):
            visit(a)
        case .sigma(let test): for a in test.attributes { visit(a) }
        }
    }

    func rendered() -> String {
        switch self {
        case .and(let nodes):
            return nodes.map { node -> String in
                if case .or = node { return "(\(node.rendered()))" }
                return node.rendered()
            }.joined(separator: " AND ")
        case .or(let nodes):
            return nodes.map { $0.rendered() }.joined(separator: " OR ")
        case .not(let node):
            return "NOT (\(node.rendered()))"
        case .compare(let a, let op, let c):
            return "\(a.name) \(op.rawValue) \(c.rendered)"
        case .inList(let a, let negated, let list):
            return "\(a.name) \(negated ? "NOT IN" : "IN") (\(list.map(\.rendered).joined(separator: ", ")))"
        case .contain(let a, let negated, let c):
            return "\(a.name) \(negated ? "NOT CONTAIN" : "CONTAIN") \(c.rendered)"
        case .regexp(let a, let negated, let r):
            let quoted = FilterConstant(text: r.pattern, isQuoted: true).rendered
            return "\(a.name) \(negated ? "NOT REGEXP" : "REGEXP") \(quoted)"
        case .isNull(let a, let negated):
            return "\(a.name) \(negated ? "IS NOT NULL" : "IS NULL")"
        case .between(let a, let negated, let low, let high):
            return "\(a.name) \(negated ? "NOT BETWEEN" : "BETWEEN") (\(low.rendered), \(high.rendered))"
        case .sigma(let test):
            return test.rendered
        }
    }
}
