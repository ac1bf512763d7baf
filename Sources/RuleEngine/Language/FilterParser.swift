import ExecEvents

/// Recursive-descent parser of the filter language (`SingleEvtConstr`).
///
/// ```
/// expression := term (OR term)*
/// term       := factor (AND factor)*
/// factor     := NOT factor | '(' expression ')' | condition
/// condition  := attribute ( op value | [NOT] IN list | [NOT] CONTAIN value | [NOT] REGEXP pattern
///                         | IS [NOT] NULL | [NOT] BETWEEN '(' value ',' value ')' )
/// op         := = | != | < | <= | > | >=
/// list       := '(' value (',' value)* ')'        pattern := string | '(' string ')'
/// ```
struct FilterParser: BooleanExpressionParser {
    let tokens: [Token]
    var p = 0
    var depth = 0
    /// Every attribute name read so far, where it stands.
    var attributeUses: [AttributeUse] = []

    init(_ text: String) throws(ExpressionError) {
        tokens = try Lexer.tokenize(text)
    }

    static let expressionName = "filter"
    static let example = "a condition such as eventType = \"LINUX_PROCESS_EXEC\""
    static func and(_ nodes: [FilterNode]) -> FilterNode { .and(nodes) }
    static func or(_ nodes: [FilterNode]) -> FilterNode { .or(nodes) }

    mutating func parseFactor() throws(ExpressionError) -> FilterNode {
        if current.isKeyword("NOT") {
            try enterNesting(at: current)
            p += 1
            let negated = try parseFactor()
            depth -= 1
            return .not(negated)
        }
        if let group = try parseGroup() { return group }
        return try parseCondition()
    }

    private mutating func parseCondition() throws(ExpressionError) -> FilterNode {
        guard case .word(let name) = current.kind, !isReservedWord(current) else {
            throw ExpressionError(
                offset: current.start,
                message: "expected an attribute name, NOT or '(', found \(current.quoted)"
            )
        }
        let attribute = EventAttribute(name: name)
        attributeUses.append(AttributeUse(attribute: attribute, offset: current.start))
        p += 1
        let opToken = current
        if case .comparison(let symbol) = opToken.kind {
            guard let op = ComparisonOperator(rawValue: symbol) else {
                throw unknownOperator(opToken)
            }
            p += 1
            return .compare(attribute, op, try parseValue(after: "'\(symbol)'"))
        }
        var negated = false
        if opToken.isKeyword("NOT") {
            negated = true
            p += 1
        }
        let keywordToken = current
        switch keywordToken.keyword {
        case "IN":
            p += 1
            return .inList(attribute, negated: negated, try parseList())
        case "CONTAIN":
            p += 1
            return .contain(attribute, negated: negated, try parseValue(after: "CONTAIN"))
        case "REGEXP":
            p += 1
            return .regexp(attribute, negated: negated, try parseRegex())
        case "BETWEEN":
            p += 1
            try expect(.leftParen, "expected '(' after BETWEEN")
            let low = try parseValue(after: "BETWEEN (")
            try expect(.comma, "expected ',' between the two bounds of BETWEEN")
            let high = try parseValue(after: "','")
            try expect(.rightParen, "expected ')' to close BETWEEN")
            return .between(attribute, negated: negated, low, high)
        case "IS" where !negated:
            p += 1
            var isNot = false
            if current.isKeyword("NOT") {
                isNot = true
                p += 1
            }
            guard current.isKeyword("NULL") else {
                throw ExpressionError(
                    offset: current.start,
                    message: "expected NULL after IS\(isNot ? " NOT" : ""), found \(current.quoted)"
                )
            }
            p += 1
            return .isNull(attribute, negated: isNot)
        default:
            if negated {
                throw ExpressionError(
                    offset: keywordToken.start,
                    message: "expected IN, CONTAIN, REGEXP or BETWEEN after NOT, found \(keywordToken.quoted)"
                )
            }
            throw unknownOperator(opToken)
        }
    }

    private func unknownOperator(_ token: Token) -> ExpressionError {
        let expected =
            "=, !=, <, <=, >, >=, IN, NOT IN, CONTAIN, NOT CONTAIN, REGEXP, NOT REGEXP, IS NULL, IS NOT NULL or BETWEEN"
        switch token.kind {
        case .end:
            return ExpressionError(
                offset: token.start,
                message: "expected an operator (\(expected)), found the end of the filter"
            )
        case .word(let w), .comparison(let w), .bare(let w):
            return ExpressionError(offset: token.start, message: "unknown operator '\(w)': expected \(expected)")
        default:
            return ExpressionError(
                offset: token.start,
                message: "expected an operator (\(expected)), found \(token.quoted)"
            )
        }
    }

    private mutating func parseValue(after what: String) throws(ExpressionError) -> FilterConstant {
        switch current.kind {
        case .string(let s):
            p += 1
            return FilterConstant(text: s, isQuoted: true)
        case .bare(let b):
            p += 1
            return FilterConstant(text: b, isQuoted: false)
        default:
            throw ExpressionError(
                offset: current.start,
                message: "expected a quoted string or a number after \(what), found \(current.quoted)"
            )
        }
    }

    private mutating func parseList() throws(ExpressionError) -> [FilterConstant] {
        try expect(.leftParen, "expected '(' to start the IN list")
        var values = [try parseValue(after: "'('")]
        while current.kind == .comma {
            p += 1
            values.append(try parseValue(after: "','"))
        }
        try expect(.rightParen, "expected ',' or ')' in the IN list")
        return values
    }

    private mutating func parseRegex() throws(ExpressionError) -> CompiledRegex {
        var parenthesized = false
        if current.kind == .leftParen {
            parenthesized = true
            p += 1
        }
        let token = current
        guard case .string(let pattern) = token.kind else {
            throw ExpressionError(
                offset: token.start,
                message: "expected a quoted regular expression after REGEXP, found \(token.quoted)"
            )
        }
        p += 1
        if parenthesized { try expect(.rightParen, "expected ')' after the regular expression") }
        do {
            return try CompiledRegex(pattern: pattern)
        } catch {
            throw ExpressionError(offset: token.start, message: "invalid regular expression \"\(pattern)\": \(error)")
        }
    }

    private mutating func expect(_ kind: Token.Kind, _ message: String) throws(ExpressionError) {
        guard current.kind == kind else {
            throw ExpressionError(offset: current.start, message: "\(message), found \(current.quoted)")
        }
        p += 1
    }

    private func isReservedWord(_ token: Token) -> Bool {
        switch token.keyword {
        case "AND", "OR", "NOT", "IN", "CONTAIN", "REGEXP", "IS", "NULL", "BETWEEN": true
        default: false
        }
    }
}
