import ExecEvents

/// Recursive-descent parser of the aggregate language (`GroupEvtConstr`).
///
/// ```
/// expression := term (OR term)*          term := factor (AND factor)*
/// factor     := '(' expression ')' | function op number
/// function   := COUNT '(' '*' ')' | COUNT '(' DISTINCT attribute ')' | (SUM|AVG|MIN|MAX) '(' attribute ')'
/// ```
struct AggregateParser: BooleanExpressionParser {
    let tokens: [Token]
    var p = 0
    var depth = 0
    private(set) var terms: [AggregateTerm] = []
    /// Every attribute name read so far, where it stands.
    private(set) var attributeUses: [AttributeUse] = []

    init(_ text: String) throws(ExpressionError) {
        tokens = try Lexer.tokenize(text)
    }

    static let expressionName = "aggregate constraint"
    static let example = "e.g. COUNT(*) >= 1"
    static func and(_ nodes: [AggregateNode]) -> AggregateNode { .and(nodes) }
    static func or(_ nodes: [AggregateNode]) -> AggregateNode { .or(nodes) }

    mutating func parseFactor() throws(ExpressionError) -> AggregateNode {
        if let group = try parseGroup() { return group }
        let term = try parseTerm()
        let opToken = current
        guard case .comparison(let symbol) = opToken.kind else {
            throw ExpressionError(
                offset: opToken.start,
                message:
                    "expected a comparison (>=, >, =, !=, <, <=) after \(terms[term].rendered), found \(opToken.quoted)"
            )
        }
        guard let op = ComparisonOperator(rawValue: symbol) else {
            throw ExpressionError(
                offset: opToken.start,
                message: "unknown operator '\(symbol)': expected >=, >, =, !=, < or <="
            )
        }
        p += 1
        guard case .bare(let text) = current.kind, let number = Number.parse(Array(text.utf8)) else {
            throw ExpressionError(
                offset: current.start,
                message: "expected a number after '\(symbol)', found \(current.quoted)"
            )
        }
        p += 1
        return .compare(term: term, op, number)
    }

    /// Parses a function call and returns the index of its term.
    private mutating func parseTerm() throws(ExpressionError) -> Int {
        let nameToken = current
        let function: AggregateFunction
        switch nameToken.keyword {
        case "COUNT": function = .count
        case "SUM": function = .sum
        case "AVG": function = .avg
        case "MIN": function = .min
        case "MAX": function = .max
        default:
            throw ExpressionError(
                offset: nameToken.start,
                message: "expected an aggregate function (COUNT, SUM, AVG, MIN, MAX), found \(nameToken.quoted)"
            )
        }
        p += 1
        guard current.kind == .leftParen else {
            throw ExpressionError(
                offset: current.start,
                message: "expected '(' after \(function.rawValue), found \(current.quoted)"
            )
        }
        p += 1
        var term: AggregateTerm
        if function == .count, current.kind == .star {
            p += 1
            term = AggregateTerm(function: .count, attribute: nil)
        } else if function == .count {
            guard current.isKeyword("DISTINCT") else {
                throw ExpressionError(
                    offset: current.start,
                    message: "expected '*' or DISTINCT attribute after COUNT(, found \(current.quoted)"
                )
            }
            p += 1
            term = AggregateTerm(function: .countDistinct, attribute: try parseAttribute())
        } else {
            term = AggregateTerm(function: function, attribute: try parseAttribute())
        }
        guard current.kind == .rightParen else {
            throw ExpressionError(
                offset: current.start,
                message: "expected ')' to close \(function.rawValue)(, found \(current.quoted)"
            )
        }
        p += 1
        if let index = terms.firstIndex(of: term) { return index }
        terms.append(term)
        return terms.count - 1
    }

    private mutating func parseAttribute() throws(ExpressionError) -> EventAttribute {
        guard case .word(let name) = current.kind else {
            throw ExpressionError(offset: current.start, message: "expected an attribute name, found \(current.quoted)")
        }
        let attribute = EventAttribute(name: name)
        attributeUses.append(AttributeUse(attribute: attribute, offset: current.start))
        p += 1
        return attribute
    }
}
