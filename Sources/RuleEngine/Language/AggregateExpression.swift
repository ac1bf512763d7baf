import ExecEvents

/// A compiled `GroupEvtConstr`: aggregate functions over the events of a group's window, compared
/// with numbers and combined with AND/OR (`COUNT(*) >= 3 AND COUNT(DISTINCT user) > 1`).
public struct AggregateExpression: Sendable, CustomStringConvertible {
    let root: AggregateNode
    /// The distinct aggregate terms; nodes refer to them by index, so each is computed once.
    let terms: [AggregateTerm]
    /// The event attributes the terms read, in order; window entries keep these values.
    public let attributes: [EventAttribute]
    /// The expression as written in the rule.
    public let text: String
    /// Every attribute name as written, with its offset in the text given to `init`.
    let attributeUses: [AttributeUse]

    /// Compiles aggregate text. Errors carry the byte offset in `text` of the offending token.
    public init(_ text: String) throws(ExpressionError) {
        var parser = try AggregateParser(text)
        let root = try parser.parseExpression()
        self.root = root
        self.attributeUses = parser.attributeUses
        self.terms = parser.terms
        var attributes: [EventAttribute] = []
        for term in parser.terms {
            if let a = term.attribute, !attributes.contains(a) { attributes.append(a) }
        }
        self.attributes = attributes
        self.text = text.trimmingXMLSpace()
    }

    /// `COUNT(*) >= 1`, the aggregate of rules that trigger on every matching event.
    public static let countAtLeastOne = try! AggregateExpression("COUNT(*) >= 1")

    /// Whether the expression needs only `COUNT(*)` (then window entries carry no values).
    var countsOnly: Bool { attributes.isEmpty }

    public var description: String { root.rendered(terms) }
}

enum AggregateFunction: String, Sendable {
    case count = "COUNT"
    case countDistinct = "COUNT DISTINCT"
    case sum = "SUM"
    case avg = "AVG"
    case min = "MIN"
    case max = "MAX"
}

/// One aggregate function applied to an attribute (`attribute` is nil for `COUNT(*)`).
struct AggregateTerm: Hashable, Sendable {
    var function: AggregateFunction
    var attribute: EventAttribute?

    var rendered: String {
        switch function {
        case .count: "COUNT(*)"
        case .countDistinct: "COUNT(DISTINCT \(attribute!.name))"
        default: "\(function.rawValue)(\(attribute!.name))"
        }
    }
}

indirect enum AggregateNode: Sendable {
    case and([AggregateNode])
    case or([AggregateNode])
    case compare(term: Int, ComparisonOperator, Number)

    func rendered(_ terms: [AggregateTerm]) -> String {
        switch self {
        case .and(let nodes):
            return nodes.map { node -> String in
                if case .or = node { return "(\(node.rendered(terms)))" }
                return node.rendered(terms)
            }.joined(separator: " AND ")
        case .or(let nodes):
            return nodes.map { $0.rendered(terms) }.joined(separator: " OR ")
        case .compare(let term, let op, let number):
            let n: String
            switch number {
            case .integer(let i): n = String(i)
            case .double(let d): n = String(d)
            }
            return "\(terms[term].rendered) \(op.rawValue) \(n)"
        }
    }
}
