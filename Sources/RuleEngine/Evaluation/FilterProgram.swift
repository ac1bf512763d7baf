/// The filters of the engine's rules lowered to flat lists of leaf tests, each with where to go
/// when it holds and when it does not: evaluating a rule walks its list without reading the
/// tree's `and`, `or` and `not` nodes, whose payloads (arrays of nodes) were retained and released
/// at every node of every candidate, every event.
///
/// A filter's leaves are tested in the order and under the conditions the tree evaluates them
/// (``FilterNode/matches(_:)``: left to right, each `and`/`or` stopping at the first term that
/// decides it), so a program gives the tree's answer with the same leaves read.
///
/// A class: built once per rule set, read by every event through one reference.
final class FilterPrograms: @unchecked Sendable {
    // @unchecked: `Unmanaged` is not Sendable; the tests it points to are immutable (Sendable)
    // and kept alive by `retainedTests`, and nothing here changes after `init`.

    /// One leaf test and where to go next: a step index, or ``accept`` / ``reject``.
    struct Step {
        /// The leaf: an index into ``sigmaTests`` when non-negative, else `~index` into ``otherLeaves``.
        var leaf: Int32
        var onTrue: Int32
        var onFalse: Int32
    }

    /// Where a filter ends when it holds, and when it does not.
    static let accept: Int32 = -1
    static let reject: Int32 = -2

    private var steps: [Step] = []
    /// The first step of each filter, by its number (``accept`` or ``reject`` for a filter with
    /// no leaf to test).
    private var entries: [Int32] = []
    /// The Sigma tests, by unretained reference (held by ``retainedTests``): a test read out of
    /// an array of references was retained and released around every call.
    private var sigmaTests: [Unmanaged<SigmaFieldTest>] = []
    private var retainedTests: [SigmaFieldTest] = []
    /// The leaves of the rule language (`=`, `IN`, `CONTAIN`, …), tested as the tree tests them.
    private var otherLeaves: [FilterNode] = []

    /// The programs of `filters`, numbered as given.
    init(_ filters: [FilterExpression]) {
        for filter in filters { entries.append(lower(filter.root, onTrue: Self.accept, onFalse: Self.reject)) }
    }

    /// Emits the steps of `node` (its terms' steps after the ones they lead to) and returns the
    /// first: it goes on to `onTrue` when the node holds and to `onFalse` when it does not.
    private func lower(_ node: FilterNode, onTrue: Int32, onFalse: Int32) -> Int32 {
        switch node {
        case .and(let nodes):
            var next = onTrue  // an empty `and` holds
            for term in nodes.reversed() { next = lower(term, onTrue: next, onFalse: onFalse) }
            return next
        case .or(let nodes):
            var next = onFalse  // an empty `or` does not
            for term in nodes.reversed() { next = lower(term, onTrue: onTrue, onFalse: next) }
            return next
        case .not(let operand):
            return lower(operand, onTrue: onFalse, onFalse: onTrue)
        case .sigma(let test):
            retainedTests.append(test)
            sigmaTests.append(Unmanaged.passUnretained(test))
            return append(Step(leaf: Int32(sigmaTests.count - 1), onTrue: onTrue, onFalse: onFalse))
        default:
            otherLeaves.append(node)
            return append(Step(leaf: ~Int32(otherLeaves.count - 1), onTrue: onTrue, onFalse: onFalse))
        }
    }

    private func append(_ step: Step) -> Int32 {
        steps.append(step)
        return Int32(steps.count - 1)
    }

    /// Whether filter `number` holds for the subject's event (as ``FilterExpression/matches(_:)``
    /// of the filter it was lowered from).
    func matches(_ number: Int, _ subject: inout FilterSubject) -> Bool {
        var at = entries[number]
        steps.withUnsafeBufferPointer { steps in
            sigmaTests.withUnsafeBufferPointer { sigmaTests in
                while at >= 0 {
                    let step = steps[Int(at)]
                    let holds: Bool
                    if step.leaf >= 0 {
                        holds = sigmaTests[Int(step.leaf)]._withUnsafeGuaranteedRef { $0.matches(&subject) }
                    } else {
                        holds = otherLeaves[Int(~step.leaf)].matches(&subject)
                    }
                    at = holds ? step.onTrue : step.onFalse
                }
            }
        }
        return at == Self.accept
    }
}
