import ExecEvents

// How an aggregate constraint is computed over the events of one group's window.
//
// - COUNT(*) counts the events; COUNT(DISTINCT a) counts distinct present values of `a` (exact
//   values, case-sensitive).
// - SUM, AVG, MIN, MAX use the values of the attribute that read as numbers and ignore the others;
//   over no such value the function has no value and every comparison with it is false.

extension AggregateExpression {
    /// Whether the constraint holds over these window entries.
    func holds(over entries: ArraySlice<WindowEntry>) -> Bool {
        if countsOnly {
            return root.holds { _ in .integer(Int64(entries.count)) }
        }
        var cache = [Number??](repeating: nil, count: terms.count)
        return root.holds { index in
            if let cached = cache[index] { return cached }
            let value = compute(terms[index], over: entries)
            cache[index] = .some(value)
            return value
        }
    }

    private func compute(_ term: AggregateTerm, over entries: ArraySlice<WindowEntry>) -> Number? {
        guard let attribute = term.attribute else { return .integer(Int64(entries.count)) }
        let slot = attributes.firstIndex(of: attribute)!
        switch term.function {
        case .count:
            return .integer(Int64(entries.count))
        case .countDistinct:
            var distinct = Set<AttributeValue>()
            for entry in entries { if let v = entry.values[slot] { distinct.insert(v) } }
            return .integer(Int64(distinct.count))
        case .sum, .avg, .min, .max:
            var count = 0
            var intSum: Int64 = 0
            var intExact = true
            var doubleSum = 0.0
            var best: Number?
            for entry in entries {
                guard let value = entry.values[slot], let n = number(value) else { continue }
                count += 1
                doubleSum += n.doubleValue
                if case .integer(let i) = n, intExact {
                    let (s, overflow) = intSum.addingReportingOverflow(i)
                    if overflow { intExact = false } else { intSum = s }
                } else {
                    intExact = false
                }
                if let b = best {
                    let order = Number.compare(n, b)
                    if (term.function == .min && order < 0) || (term.function == .max && order > 0) { best = n }
                } else {
                    best = n
                }
            }
            guard count > 0 else { return nil }
            switch term.function {
            case .sum: return intExact ? .integer(intSum) : .double(doubleSum)
            case .avg: return .double(doubleSum / Double(count))
            default: return best
            }
        }
    }

    private func number(_ value: AttributeValue) -> Number? {
        switch value {
        case .integer(let i): .integer(i)
        case .string(let s): Number.parse(s.utf8)
        }
    }
}

extension AggregateNode {
    func holds(_ value: (Int) -> Number?) -> Bool {
        switch self {
        case .and(let nodes):
            for node in nodes where !node.holds(value) { return false }
            return true
        case .or(let nodes):
            for node in nodes where node.holds(value) { return true }
            return false
        case .compare(let term, let op, let constant):
            guard let v = value(term) else { return false }
            return op.holds(Number.compare(v, constant))
        }
    }
}
