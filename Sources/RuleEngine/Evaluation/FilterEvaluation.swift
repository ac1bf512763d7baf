import ExecEvents

// How a compiled filter decides on one event.
//
// - A condition on an attribute the event lacks is false, whatever the operator (`!=`, `NOT IN`,
//   `NOT CONTAIN`, `NOT REGEXP` and `NOT BETWEEN` included); only `IS NULL` is true for it.
//   `NOT (…)` is plain boolean negation of its operand.
// - Text comparisons (=, !=, <, …, IN, CONTAIN, BETWEEN) ignore ASCII case.
// - A number constant against an integer attribute compares numerically, quoted or not. A bare
//   number against a text attribute compares numerically when the text reads as a number.
// - REGEXP is unanchored and case-sensitive unless the pattern says `(?i)`.

extension FilterExpression {
    /// Whether the event satisfies the filter.
    public func matches(_ event: ExecEvent) -> Bool {
        var subject = FilterSubject(event)
        return root.matches(&subject)
    }

    /// Whether the event satisfies the filter; `subject` keeps what it derived (the joined argv)
    /// for the next filter evaluated on the same event.
    func matches(_ subject: inout FilterSubject) -> Bool {
        root.matches(&subject)
    }
}

extension FilterNode {
    func matches(_ event: inout FilterSubject) -> Bool {
        switch self {
        case .and(let nodes):
            for node in nodes where !node.matches(&event) { return false }
            return true
        case .or(let nodes):
            for node in nodes where node.matches(&event) { return true }
            return false
        case .not(let node):
            return !node.matches(&event)
        case .compare(let attribute, let op, let constant):
            guard let value = event.value(of: attribute) else { return false }
            return op.holds(compareValue(value, constant))
        case .inList(let attribute, let negated, let constants):
            guard let value = event.value(of: attribute) else { return false }
            var found = false
            for constant in constants where compareValue(value, constant) == 0 {
                found = true
                break
            }
            return found != negated
        case .contain(let attribute, let negated, let constant):
            guard let value = event.value(of: attribute) else { return false }
            return foldedContains(value.description, constant.folded) != negated
        case .regexp(let attribute, let negated, let compiled):
            guard let value = event.value(of: attribute) else { return false }
            return compiled.isFound(in: value.description) != negated
        case .isNull(let attribute, let negated):
            return !event.has(attribute) != negated
        case .between(let attribute, let negated, let low, let high):
            guard let value = event.value(of: attribute) else { return false }
            let inside = compareValue(value, low) >= 0 && compareValue(value, high) <= 0
            return inside != negated
        case .sigma(let test):
            return test.matches(&event)
        }
    }
}

/// Three-way comparison of an event value with a constant, per the rules above.
@inline(__always)
func compareValue(_ value: AttributeValue, _ constant: FilterConstant) -> Int {
    switch value {
    case .integer(let i):
        if let n = constant.number { return Number.compare(.integer(i), n) }
        return foldedCompare(String(i), constant.folded)
    case .string(let s):
        if !constant.isQuoted, let n = constant.number, let v = Number.parse(s.utf8) {
            return Number.compare(v, n)
        }
        return foldedCompare(s, constant.folded)
    }
}
