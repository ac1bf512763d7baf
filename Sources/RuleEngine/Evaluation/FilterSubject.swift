import ExecEvents

/// A text of the event the rule index guards rules with: the command line (`args`), or `Image`'s
/// paths (`invokedPath` and `exePath`: a literal in either).
enum GuardedText: Sendable {
    case commandLine
    case image
}

/// One event as the filters of all candidate rules read it: built once per event, it hands out
/// attribute values and derives the costly ones (`args`, the argv joined by spaces) at most once,
/// on first use, however many rules and Sigma tests read them.
struct FilterSubject {
    let event: ExecEvent
    /// `args` as a filter sees it: nil until first read, then `.some(value)` (`.some(nil)` when
    /// the event has no argv).
    private var joinedArguments: AttributeValue??
    /// The byte pairs of the joined argv, built on the first `contains` test of a long one: nil
    /// until then, `.some(nil)` when the argv is short (scanned directly).
    private var argumentPairs: BytePairSet??
    /// The rule index's literals found in the joined argv, and in `invokedPath` or `exePath`: nil
    /// until first asked for.
    private var argumentOccurrences: LiteralOccurrences?
    private var imageOccurrences: LiteralOccurrences?

    init(_ event: ExecEvent) {
        self.event = event
    }

    /// The value of an attribute, or nil when the event lacks it (as ``ExecEvent/value(of:)``).
    @inline(__always)
    mutating func value(of attribute: EventAttribute) -> AttributeValue? {
        guard case .args = attribute else { return event.value(of: attribute) }
        if let cached = joinedArguments { return cached }
        let value = event.value(of: .args)
        joinedArguments = .some(value)
        return value
    }

    /// The byte pairs of an attribute's text, when it is long enough for them to pay (only the
    /// argv, `args`, is long): a `contains` needle with a pair not in it cannot match.
    mutating func bytePairs(of attribute: EventAttribute) -> BytePairSet? {
        guard case .args = attribute else { return nil }
        if let built = argumentPairs { return built }
        var pairs: BytePairSet?
        if case .string(let text)? = value(of: .args), text.utf8.count >= BytePairSet.minimumTextLength {
            pairs = withUTF8Bytes(text) { BytePairSet($0) }
        }
        argumentPairs = .some(pairs)
        return pairs
    }

    /// Whether the text holds the literal `id` of `set` (false when the event lacks the text). All
    /// literals of the set are found in one pass over the text on first use; every call for one
    /// event must pass the same set for a text (the rule index's).
    mutating func holds(literal id: Int, of set: LiteralSet, in text: GuardedText) -> Bool {
        switch text {
        case .commandLine:
            if argumentOccurrences == nil {
                var found = LiteralOccurrences(count: set.literals.count)
                if case .string(let text)? = value(of: .args) {
                    found = withUTF8Bytes(text) { set.occurrences(in: $0) }
                }
                argumentOccurrences = found
            }
            return argumentOccurrences.unsafelyUnwrapped.contains(id)
        case .image:
            if imageOccurrences == nil {
                var found = LiteralOccurrences(count: set.literals.count)
                for path in [event.invokedPath, event.exePath] {
                    guard let path else { continue }
                    found.formUnion(withUTF8Bytes(path) { set.occurrences(in: $0) })
                }
                imageOccurrences = found
            }
            return imageOccurrences.unsafelyUnwrapped.contains(id)
        }
    }

    /// Whether the event carries the attribute, without deriving its value.
    func has(_ attribute: EventAttribute) -> Bool {
        if case .args = attribute { return event.args != nil }
        return event.value(of: attribute) != nil
    }
}
