import ExecEvents

/// One event as the filters of all candidate rules read it: built once per event, it hands out
/// attribute values and derives the costly ones (`args`, the argv joined by spaces) at most once,
/// on first use, however many rules and Sigma tests read them.
struct FilterSubject {
    let event: ExecEvent
    /// `args` as a filter sees it: nil until first read, then `.some(value)` (`.some(nil)` when
    /// the event has no argv).
    private var joinedArguments: AttributeValue??

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

    /// Whether the event carries the attribute, without deriving its value.
    func has(_ attribute: EventAttribute) -> Bool {
        if case .args = attribute { return event.args != nil }
        return event.value(of: attribute) != nil
    }
}
