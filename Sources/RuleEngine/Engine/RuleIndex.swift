import ExecEvents

/// Finds the rules that can match an event without evaluating the others.
///
/// A rule is filed under the `eventType` and `procName` values its filter requires at top level
/// (`eventType = "X" AND procName IN ("a", "b") AND …`, quoted strings only, compared ignoring ASCII
/// case as the filter does). A rule without a `procName` requirement is filed under the program
/// names its Sigma `Image` tests require (see ``FilterNode/requiredProgramNames()``) and looked up
/// by the last path component of the event's `invokedPath` and of its `exePath`, since `Image`
/// matches either. A rule without any of these is filed under "any". Those requirements are
/// necessary conditions of the filter, so leaving a rule out never loses a match.
struct RuleIndex: Sendable {
    struct ProcNameBucket: Sendable {
        var byProcName = FoldedTable<[Int]>()
        var byProgramName = FoldedTable<[Int]>()
        var anyProcName: [Int] = []
    }

    private var byEventType = FoldedTable<ProcNameBucket>()
    private var anyEventType = ProcNameBucket()

    init(_ rules: [(position: Int, filter: FilterExpression)]) {
        for (position, filter) in rules {
            let eventTypes = filter.requiredValues(of: .eventType)
            let procNames = filter.requiredValues(of: .procName)
            let programNames = procNames == nil ? filter.root.requiredProgramNames() : nil
            if let eventTypes {
                for eventType in Set(eventTypes) {
                    byEventType.update(eventType, default: ProcNameBucket()) {
                        $0.add(position, procNames: procNames, programNames: programNames)
                    }
                }
            } else {
                anyEventType.add(position, procNames: procNames, programNames: programNames)
            }
        }
    }

    /// Whether any rule may match the event (the same test as ``candidates(for:into:)``, without
    /// collecting them).
    func hasCandidates(for event: ExecEvent) -> Bool {
        let keys = EventKeys(event)
        if let bucket = byEventType.lookup(event.eventType), bucket.hasCandidates(keys) { return true }
        return anyEventType.hasCandidates(keys)
    }

    /// Appends the positions of the rules that may match the event, in ascending order, each once.
    func candidates(for event: ExecEvent, into buffer: inout [Int]) {
        buffer.removeAll(keepingCapacity: true)
        let keys = EventKeys(event)
        if let bucket = byEventType.lookup(event.eventType) { bucket.candidates(keys, into: &buffer) }
        anyEventType.candidates(keys, into: &buffer)
        buffer.sort()
        // A rule filed under two program names may come from both the invoked and the resolved path.
        // (Over indices: iterating the array itself while writing to it copies it, every event.)
        var kept = 0
        for k in buffer.indices where kept == 0 || buffer[kept - 1] != buffer[k] {
            buffer[kept] = buffer[k]
            kept += 1
        }
        buffer.removeLast(buffer.count - kept)
    }

    /// What the index looks an event up by.
    struct EventKeys {
        var procName: String?
        /// The last path component of `invokedPath` and of `exePath` (nil when the same as the first).
        var invokedName: String?
        var exeName: String?

        init(_ event: ExecEvent) {
            procName = event.procName
            invokedName = event.invokedPath.map(Self.lastComponent)
            exeName = event.exePath.map(Self.lastComponent)
            if exeName == invokedName { exeName = nil }
        }

        /// The text after the last `/` (all of it without one; empty when it ends with `/`).
        static func lastComponent(_ path: String) -> String {
            guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
            return String(path[path.utf8.index(after: slash)...])
        }
    }
}

extension RuleIndex.ProcNameBucket {
    mutating func add(_ position: Int, procNames: [String]?, programNames: [String]?) {
        if let procNames {
            for name in Set(procNames) {
                byProcName.update(name, default: []) { if $0.last != position { $0.append(position) } }
            }
        } else if let programNames {
            for name in Set(programNames) {
                byProgramName.update(name, default: []) { if $0.last != position { $0.append(position) } }
            }
        } else {
            anyProcName.append(position)
        }
    }

    func hasCandidates(_ keys: RuleIndex.EventKeys) -> Bool {
        if !anyProcName.isEmpty { return true }
        if let name = keys.procName, byProcName.lookup(name) != nil { return true }
        if let name = keys.invokedName, byProgramName.lookup(name) != nil { return true }
        if let name = keys.exeName, byProgramName.lookup(name) != nil { return true }
        return false
    }

    func candidates(_ keys: RuleIndex.EventKeys, into buffer: inout [Int]) {
        if let name = keys.procName, let positions = byProcName.lookup(name) { buffer.append(contentsOf: positions) }
        if let name = keys.invokedName, let positions = byProgramName.lookup(name) {
            buffer.append(contentsOf: positions)
        }
        if let name = keys.exeName, let positions = byProgramName.lookup(name) { buffer.append(contentsOf: positions) }
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

extension FilterNode {
    /// Program names (last path components) one of which the event's `invokedPath` or `exePath`
    /// must end in for the filter to hold; nil when the filter requires none.
    ///
    /// From Sigma tests of `Image` (or of `invokedPath`/`exePath` alone) whose pattern fixes the
    /// last path component (see ``SigmaPattern/requiredLastComponent``): a conjunction requires
    /// what any of its terms requires, a disjunction the union when every term requires some;
    /// `not` and every other node require nothing.
    func requiredProgramNames() -> [String]? {
        switch self {
        case .sigma(let test):
            return test.requiredLastComponent.map { [$0] }
        case .and(let nodes):
            var best: [String]?
            for node in nodes {
                guard let names = node.requiredProgramNames() else { continue }
                if best == nil || names.count < best!.count { best = names }
            }
            return best
        case .or(let nodes):
            var union: [String] = []
            for node in nodes {
                guard let names = node.requiredProgramNames() else { return nil }
                union.append(contentsOf: names)
            }
            return union.isEmpty ? nil : union
        default:
            return nil
        }
    }
}
