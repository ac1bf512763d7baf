import ExecEvents

/// The rules a Sigma `temporal` or `temporal_ordered` correlation correlates, as the engine needs
/// them: which of them an event matched decides its window entry's tag and its group.
///
/// An event matching rule `k` (position in `filters`) enters its group's window with the tag `k`,
/// the value of ``tagAttribute`` in its entry, so the rule's aggregate
/// `COUNT(DISTINCT sigmaRule) >= n` holds when `n` of the rules matched inside the window; an
/// event matching two of the rules enters once for each. When `ordered`, the window must also
/// hold an entry of each rule in their order (times not decreasing).
public struct CorrelatedRules: Sendable {
    /// The filter of each correlated rule, in the order the correlation names them.
    public var filters: [FilterExpression]
    /// For each correlated rule, the event attributes its group values are read from, parallel to
    /// ``Rule/groupKeyAttributes`` (`hostName` first). They differ from those only where the
    /// correlation's `aliases` give a field per rule.
    public var groupSources: [[EventAttribute]]
    /// Whether the rules must match in their order (`temporal_ordered`).
    public var ordered: Bool

    /// The window entry's value that says which correlated rule the event matched.
    public static let tagAttribute = EventAttribute.other("sigmaRule")

    public init(filters: [FilterExpression], groupSources: [[EventAttribute]], ordered: Bool) {
        self.filters = filters
        self.groupSources = groupSources
        self.ordered = ordered
    }

    /// What defines the behaviour, in a canonical text form (part of ``Rule/definition``).
    var definition: String {
        var parts = [ordered ? "ordered" : "unordered"]
        for (filter, sources) in zip(filters, groupSources) {
            parts.append(filter.description + "\u{1E}" + sources.map(\.name).joined(separator: ","))
        }
        return parts.joined(separator: "\u{1D}")
    }
}
