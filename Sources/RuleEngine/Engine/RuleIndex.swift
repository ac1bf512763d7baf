import ExecEvents

/// Finds the rules that can match an event without evaluating the others.
///
/// A rule is filed under the `eventType` and `procName` values its filter requires at top level
/// (`eventType = "X" AND procName IN ("a", "b") AND …`, quoted strings only, compared ignoring ASCII
/// case as the filter does); a rule without such a requirement is filed under "any". Those
/// requirements are necessary conditions of the filter, so leaving a rule out never loses a match.
struct RuleIndex: Sendable {
    struct ProcNameBucket: Sendable {
        var byProcName = FoldedTable<[Int]>()
        var anyProcName: [Int] = []
    }

    private var byEventType = FoldedTable<ProcNameBucket>()
    private var anyEventType = ProcNameBucket()

    init(_ rules: [(position: Int, filter: FilterExpression)]) {
        for (position, filter) in rules {
            let eventTypes = filter.requiredValues(of: .eventType)
            let procNames = filter.requiredValues(of: .procName)
            if let eventTypes {
                for eventType in Set(eventTypes) {
                    byEventType.update(eventType, default: ProcNameBucket()) { $0.add(position, procNames) }
                }
            } else {
                anyEventType.add(position, procNames)
            }
        }
    }

    /// Whether any rule may match the event (the same test as ``candidates(for:into:)``, without
    /// collecting them).
    func hasCandidates(for event: ExecEvent) -> Bool {
        if let bucket = byEventType.lookup(event.eventType), bucket.hasCandidates(event.procName) { return true }
        return anyEventType.hasCandidates(event.procName)
    }

    /// Appends the positions of the rules that may match the event, in ascending order.
    func candidates(for event: ExecEvent, into buffer: inout [Int]) {
        buffer.removeAll(keepingCapacity: true)
        if let bucket = byEventType.lookup(event.eventType) { bucket.candidates(event.procName, into: &buffer) }
        anyEventType.candidates(event.procName, into: &buffer)
        buffer.sort()
    }
}

extension RuleIndex.ProcNameBucket {
    mutating func add(_ position: Int, _ procNames: [String]?) {
        guard let procNames else {
            anyProcName.append(position)
            return
        }
        for name in Set(procNames) {
            byProcName.update(name, default: []) { if $0.last != position { $0.append(position) } }
        }
    }

    func hasCandidates(_ procName: String?) -> Bool {
        if !anyProcName.isEmpty { return true }
        guard let procName else { return false }
        return byProcName.lookup(procName) != nil
    }

    func candidates(_ procName: String?, into buffer: inout [Int]) {
        if let procName, let positions = byProcName.lookup(procName) { buffer.append(contentsOf: positions) }
        buffer.append(contentsOf: anyProcName)
    }
}

/// A table keyed by text compared ignoring ASCII case. A lookup first tries the key exactly as
/// given (no allocation for keys spelled as in the rules), then its lower-case form.
struct FoldedTable<Value: Sendable>: Sendable {
    private var values: [Value] = []
    private var folded: [String: Int] = [:]
    private var exact: [String: Int] = [:]

    mutating func update(_ key: String, default value: Value, _ change: (inout Value) -> Void) {
        let foldedKey = asciiLowercased(key)
        let slot: Int
        if let existing = folded[foldedKey] {
            slot = existing
        } else {
            slot = values.count
            values.append(value)
            folded[foldedKey] = slot
        }
        exact[key] = slot
        change(&values[slot])
    }

    func lookup(_ key: String) -> Value? {
        if let slot = exact[key] ?? folded[asciiLowercased(key)] { return values[slot] }
        return nil
    }
}

extension FilterExpression {
    /// The values `attribute` must equal (ignoring ASCII case) for the filter to hold, when a
    /// top-level conjunct says so with `=` or `IN` and quoted strings; nil when no conjunct does.
    func requiredValues(of attribute: EventAttribute) -> [String]? {
        var conjuncts: [FilterNode] = [root]
        var k = 0
        while k < conjuncts.count {  // flatten nested ANDs
            if case .and(let nodes) = conjuncts[k] {
                conjuncts.remove(at: k)
                conjuncts.append(contentsOf: nodes)
            } else {
                k += 1
            }
        }
        for node in conjuncts {
            switch node {
            case .compare(let a, .equal, let constant) where a == attribute && constant.isQuoted:
                return [constant.text]
            case .inList(let a, false, let constants) where a == attribute && constants.allSatisfy(\.isQuoted):
                return constants.map(\.text)
            default:
                continue
            }
        }
        return nil
    }
}
