/// What the filter and aggregate languages share: factors combined by `AND`, then `OR`
/// (`AND` binds tighter), over a stream of tokens ending in `.end`.
protocol BooleanExpressionParser {
    associatedtype Node
    var tokens: [Token] { get }
    var p: Int { get set }
    /// How many parentheses and `NOT`s enclose the current token.
    var depth: Int { get set }
    /// What the expression is called in errors ("filter", "aggregate constraint").
    static var expressionName: String { get }
    /// An example of a condition, for the error on an empty expression.
    static var example: String { get }
    mutating func parseFactor() throws(ExpressionError) -> Node
    static func and(_ nodes: [Node]) -> Node
    static func or(_ nodes: [Node]) -> Node
}

extension BooleanExpressionParser {
    var current: Token { tokens[p] }

    /// Deepest nesting of parentheses and `NOT` accepted. Parsing, evaluating and rendering recurse
    /// once per level, so a deeper expression (a rule file of 1,000 `(`) would overflow the stack;
    /// real rules nest a few levels.
    static var maximumDepth: Int { 64 }

    /// Enters one level of nesting at `token` (a `(` or a `NOT`); an error past ``maximumDepth``.
    mutating func enterNesting(at token: Token) throws(ExpressionError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw ExpressionError(
                offset: token.start,
                message: "\(Self.expressionName) nested deeper than \(Self.maximumDepth) levels of parentheses and NOT"
            )
        }
    }

    /// The whole expression: it must use up every token.
    mutating func parseExpression() throws(ExpressionError) -> Node {
        if current.kind == .end {
            throw ExpressionError(
                offset: current.start,
                message: "empty \(Self.expressionName): expected \(Self.example)"
            )
        }
        let node = try parseOr()
        guard current.kind == .end else {
            throw ExpressionError(
                offset: current.start,
                message: "expected AND, OR or the end of the \(Self.expressionName), found \(current.quoted)"
            )
        }
        return node
    }

    mutating func parseOr() throws(ExpressionError) -> Node {
        var nodes = [try parseAnd()]
        while current.isKeyword("OR") {
            p += 1
            nodes.append(try parseAnd())
        }
        return nodes.count == 1 ? nodes[0] : Self.or(nodes)
    }

    /// `( expression )` when the next token opens one; nil otherwise.
    mutating func parseGroup() throws(ExpressionError) -> Node? {
        guard current.kind == .leftParen else { return nil }
        let open = current
        try enterNesting(at: open)
        p += 1
        let node = try parseOr()
        guard current.kind == .rightParen else {
            throw ExpressionError(
                offset: current.start,
                message: "expected ')' to close the '(' at byte \(open.start), found \(current.quoted)"
            )
        }
        p += 1
        depth -= 1
        return node
    }

    mutating func parseAnd() throws(ExpressionError) -> Node {
        var nodes = [try parseFactor()]
        while current.isKeyword("AND") {
            p += 1
            nodes.append(try parseFactor())
        }
        return nodes.count == 1 ? nodes[0] : Self.and(nodes)
    }
}
