import ExecEvents

/// A text of the event the rule index guards rules with: the command line (`args`), or `Image`'s
/// paths (`invokedPath` and `exePath`: a literal in either).
enum GuardedText: Sendable {
    case commandLine
    case image
}

/// The literals of all rules' guards (see ``RuleIndex``), by the text they are searched for in.
/// Immutable once the index is built; a class so that each event's ``FilterSubject`` holds it
/// with one reference.
final class GuardLiterals: Sendable {
    let commandLine: LiteralSet
    let image: LiteralSet
    /// Whether every command-line literal is ASCII: then the raw argv bytes hold one exactly when
    /// the joined text does (see ``commandLineOccurrences(inArgumentArea:)``).
    private let commandLineIsASCII: Bool

    init(commandLine: LiteralSet = LiteralSet(), image: LiteralSet = LiteralSet()) {
        self.commandLine = commandLine
        self.image = image
        commandLineIsASCII = commandLine.literals.allSatisfy { $0.allSatisfy { $0 < 0x80 } }
    }

    static let none = GuardLiterals()

    // Through these, not the sets themselves: a set read out of the class would be copied (a
    // retain of each of its arrays) on every event.

    /// The literals in an argv given as its argument area (each argument NUL-terminated, the last
    /// maybe not) as they would be found in the argv joined by single spaces (`args`): the bytes
    /// are read with each NUL as a space and the last terminator left out. The joined text is the
    /// same bytes except where invalid UTF-8 is replaced by U+FFFD (bytes 0x80 and up, never an
    /// ASCII byte): an ASCII literal is in one exactly when it is in the other. With a non-ASCII
    /// literal and a byte 0x80 or up in the area, every literal counts as found.
    func commandLineOccurrences(inArgumentArea area: [UInt8], into found: inout LiteralOccurrences) {
        found.removeAll(count: commandLine.literals.count)
        var end = area.count
        if end > 0, area[end - 1] == 0 { end -= 1 }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(end, 1)) { text in
            var high: UInt8 = 0
            area.withUnsafeBufferPointer { area in
                for k in 0..<end {
                    let c = area[k]
                    high |= c
                    text[k] = c == 0 ? 0x20 : c
                }
            }
            if high >= 0x80, !commandLineIsASCII {
                found.insertAll(count: commandLine.literals.count)
                return
            }
            commandLine.addOccurrences(in: UnsafeBufferPointer(rebasing: text[0..<end]), to: &found)
        }
    }

    /// The literals in `text`, the joined argv (`args`), into `found` (emptied first).
    func commandLineOccurrences(in text: UnsafeBufferPointer<UInt8>, into found: inout LiteralOccurrences) {
        found.removeAll(count: commandLine.literals.count)
        commandLine.addOccurrences(in: text, to: &found)
    }

    /// The literals in either path (the second is not read when it is the first), into `found`
    /// (emptied first).
    func imageOccurrences(_ invokedPath: String?, _ exePath: String?, into found: inout LiteralOccurrences) {
        found.removeAll(count: image.literals.count)
        if let path = invokedPath { withUTF8Bytes(path) { image.addOccurrences(in: $0, to: &found) } }
        if let path = exePath, path != invokedPath {
            withUTF8Bytes(path) { image.addOccurrences(in: $0, to: &found) }
        }
    }
}

/// Where an event's ``FilterSubject`` keeps the guards' literals found in its texts; handed from
/// one event's subject to the next, so that the sets are allocated once, not for every event.
struct GuardFindings {
    var commandLine = LiteralOccurrences()
    var image = LiteralOccurrences()
}

/// One event as the filters of all candidate rules read it: built once per event, it hands out
/// attribute values and derives the costly ones (`args`, the argv joined by spaces) at most once,
/// on first use, however many rules and Sigma tests read them.
struct FilterSubject {
    let event: ExecEvent
    /// The guards' literals looked for in this event's texts.
    private let guards: GuardLiterals
    /// `args` as a filter sees it: nil until first read, then `.some(value)` (`.some(nil)` when
    /// the event has no argv).
    private var joinedArguments: AttributeValue??
    /// The byte pairs of the joined argv, built on the third test of a long one that asks for
    /// them (the guards' scan does not build them: most events that have a long argv never need
    /// them): nil until then, `.some(nil)` when the argv is short (scanned directly).
    private var argumentPairs: BytePairSet??
    /// How many tests asked for ``argumentPairs`` while they were not built.
    private var argumentPairRequests = 0
    /// The guards' literals found in the joined argv, and in `invokedPath` or `exePath`, once
    /// the flag beside each says they were looked for (until then, what an earlier event left).
    private(set) var findings: GuardFindings
    private var argumentsScanned = false
    private var imageScanned = false
    /// The argv bytes of an event not completed yet (see ``init(probe:argumentArea:guards:)``).
    private let argumentArea: [UInt8]?

    /// - Parameter findings: storage for the guards' findings, as an earlier subject left it
    ///   (``findings``): handed on from event to event, it is not allocated for each.
    init(_ event: ExecEvent, guards: GuardLiterals = .none, findings: GuardFindings = GuardFindings()) {
        self.event = event
        self.guards = guards
        self.argumentArea = nil
        self.findings = findings
    }

    /// A subject for the guards alone (``holds(guardLiteral:in:)``), of an exec's index probe
    /// (which has its paths but not yet its `args`) and its argv as the source has it, each
    /// argument NUL-terminated (the last maybe not): the guards' command line is those bytes
    /// read as the argv joined by single spaces.
    init(probe: ExecEvent, argumentArea: [UInt8], guards: GuardLiterals) {
        self.event = probe
        self.guards = guards
        self.argumentArea = argumentArea
        self.findings = GuardFindings()
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

    /// Calls `body` with the UTF-8 bytes of an attribute's value as text (integers in decimal, as
    /// ``AttributeValue/description`` gives them); nil when the event lacks the attribute. The
    /// event's texts are read where they are, not handed out as values (a retain and a release
    /// of each, at every test).
    @inline(__always)
    mutating func withText<R>(of attribute: EventAttribute, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        switch attribute {
        case .invokedPath: return event.invokedPath.map { withUTF8Bytes($0, body) }
        case .exePath: return event.exePath.map { withUTF8Bytes($0, body) }
        case .parentExePath: return event.parentExePath.map { withUTF8Bytes($0, body) }
        case .parentCommandLine: return event.parentCommandLine.map { withUTF8Bytes($0, body) }
        case .cwd: return event.cwd.map { withUTF8Bytes($0, body) }
        case .user: return event.user.map { withUTF8Bytes($0, body) }
        case .args:
            if joinedArguments == nil { joinedArguments = .some(event.value(of: .args)) }
            guard case .string(let text)?? = joinedArguments else { return nil }
            return withUTF8Bytes(text, body)
        default:
            return event.value(of: attribute).map { withUTF8Bytes($0.description, body) }
        }
    }

    /// The byte pairs of an attribute's text, when they pay (only the argv, `args`, is long): a
    /// `contains` needle with a pair not in it cannot match. Nil for the first
    /// ``directSearchesBeforePairs`` asking: those tests search the text itself.
    mutating func bytePairs(of attribute: EventAttribute) -> BytePairSet? {
        guard case .args = attribute else { return nil }
        if argumentPairs == nil {
            argumentPairRequests += 1
            if argumentPairRequests <= Self.directSearchesBeforePairs { return nil }
            var pairs: BytePairSet?
            if argumentArea == nil, case .string(let text)? = value(of: .args) {
                withUTF8Bytes(text) { bytes in
                    if bytes.count >= BytePairSet.minimumTextLength { pairs = BytePairSet(bytes) }
                }
            }
            argumentPairs = .some(pairs)
        }
        return argumentPairs.unsafelyUnwrapped
    }

    /// Tests of a long argv that search it directly before its pairs are built. Building them
    /// reads the whole text, as a search that finds nothing does, and stores each pair at random
    /// in a 64 KiB table; so they are built from the third test on. In the first 20 MB of the
    /// replay benchmark's sparse log, each of the 116 events whose argv of 12–131 kB got a
    /// `contains` test got only one, and building the pairs took about twice as long as the
    /// searches that replace it (perf samples of the main thread: 530 a run against 232).
    static let directSearchesBeforePairs = 2

    /// Whether the event's text holds the guard literal `id` (false when the event lacks the
    /// text). All the guards' literals are found in one pass over the text on first use.
    mutating func holds(guardLiteral id: Int, in text: GuardedText) -> Bool {
        switch text {
        case .commandLine:
            if !argumentsScanned { scanArguments() }
            return findings.commandLine.contains(id)
        case .image:
            if !imageScanned { scanImage() }
            return findings.image.contains(id)
        }
    }

    /// Whether the event's text holds one of the guard literals in `literals` (a set of the
    /// text's literals); the text is not read when `literals` is empty.
    mutating func holdsAny(of literals: LiteralOccurrences, in text: GuardedText) -> Bool {
        if literals.isEmpty { return false }
        switch text {
        case .commandLine:
            if !argumentsScanned { scanArguments() }
            return findings.commandLine.intersects(literals)
        case .image:
            if !imageScanned { scanImage() }
            return findings.image.intersects(literals)
        }
    }

    /// Calls `body` with the id of each guard literal the event's text holds, in ascending order.
    mutating func forEachGuardLiteral(in text: GuardedText, _ body: (Int) -> Void) {
        switch text {
        case .commandLine:
            if !argumentsScanned { scanArguments() }
            findings.commandLine.forEachMember(body)
        case .image:
            if !imageScanned { scanImage() }
            findings.image.forEachMember(body)
        }
    }

    /// Finds the guards' literals in the joined argv (or in the argument area of a probe).
    private mutating func scanArguments() {
        argumentsScanned = true
        if let argumentArea {
            guards.commandLineOccurrences(inArgumentArea: argumentArea, into: &findings.commandLine)
            return
        }
        if case .string(let text)? = value(of: .args) {
            withUTF8Bytes(text) { guards.commandLineOccurrences(in: $0, into: &findings.commandLine) }
        } else {
            findings.commandLine.removeAll(count: guards.commandLine.literals.count)
        }
    }

    /// Finds the guards' literals in `invokedPath` and `exePath`.
    private mutating func scanImage() {
        imageScanned = true
        guards.imageOccurrences(event.invokedPath, event.exePath, into: &findings.image)
    }

    /// Whether the event carries the attribute, without deriving its value.
    func has(_ attribute: EventAttribute) -> Bool {
        if case .args = attribute { return event.args != nil }
        return event.value(of: attribute) != nil
    }
}
