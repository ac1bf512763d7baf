import ExecEvents

/// One compiled Sigma field condition (`Image|endswith: '/nc'`, one value of it) as a leaf of the
/// engine's filter tree.
///
/// A Sigma field may stand for several event attributes (`Image` is `invokedPath` or `exePath`): a
/// value test holds when it holds for at least one of them that the event carries. `null` holds when
/// the event carries none of them; `exists: true` when it carries at least one.
///
/// A class: the filter tree holds it by reference, so evaluating a leaf does not copy (retain and
/// release) its field name, attribute list and pattern each time. Immutable, hence Sendable.
final class SigmaFieldTest: Sendable {
    enum Test: Sendable {
        case pattern(SigmaPattern)
        case regex(CompiledRegex)
        case number(ComparisonOperator, Number)
        case exists(Bool)
        case isNull
        /// `fieldref`: equal to the value of another field (any attribute of each).
        case fieldReference([EventAttribute], cased: Bool)
    }

    /// The Sigma field as written (for rendering), e.g. `Image`; empty for a keyword.
    let field: String
    let attributes: [EventAttribute]
    let test: Test
    /// `test`'s pattern, when it is one (most tests), held apart: a switch over `test` copied the
    /// whole enum through its generic copy on every evaluation.
    private let pattern: SigmaPattern?
    /// The pattern's shape and bytes (of `equals`, `prefix`, `suffix`, `contains`) held apart as
    /// plain values: a switch over the shape retained and released its bytes at every test.
    private let shape: PlainShape
    private let shapeBytes: [UInt8]
    private let cased: Bool

    /// What a pattern's ``SigmaPattern/shape`` is, without its bytes.
    private enum PlainShape: UInt8 {
        case notAPattern
        case equals, prefix, suffix, contains, anything, glob
    }

    init(field: String, attributes: [EventAttribute], test: Test) {
        self.field = field
        self.attributes = attributes
        self.test = test
        if case .pattern(let pattern) = test { self.pattern = pattern } else { self.pattern = nil }
        cased = pattern?.cased ?? false
        switch pattern?.shape {
        case nil: (shape, shapeBytes) = (.notAPattern, [])
        case .equals(let b): (shape, shapeBytes) = (.equals, b)
        case .prefix(let b): (shape, shapeBytes) = (.prefix, b)
        case .suffix(let b): (shape, shapeBytes) = (.suffix, b)
        case .contains(let b): (shape, shapeBytes) = (.contains, b)
        case .anything: (shape, shapeBytes) = (.anything, [])
        case .glob: (shape, shapeBytes) = (.glob, [])
        }
    }

    func matches(_ event: inout FilterSubject) -> Bool {
        if shape != .notAPattern {
            for k in attributes.indices {
                let attribute = attributes[k]
                // A long argv's byte pairs may tell that it cannot contain the needle.
                if shape == .contains, let pairs = event.bytePairs(of: attribute), !pairs.mayContain(shapeBytes) {
                    continue
                }
                if event.withText(of: attribute, { holdsPattern(in: $0) }) == true { return true }
            }
            return false
        }
        switch test {
        case .isNull:
            for attribute in attributes where event.has(attribute) { return false }
            return true
        case .exists(let present):
            for attribute in attributes where event.has(attribute) { return present }
            return !present
        default:
            for attribute in attributes {
                guard let value = event.value(of: attribute) else { continue }
                if holds(for: value, of: attribute, in: &event) { return true }
            }
            return false
        }
    }

    private func holds(
        for value: AttributeValue,
        of attribute: EventAttribute,
        in event: inout FilterSubject
    ) -> Bool {
        switch test {
        case .pattern(let pattern):
            return Self.holds(pattern, for: value, of: attribute, in: &event)
        case .regex(let compiled):
            if let literals = compiled.requiredLiterals, let pairs = event.bytePairs(of: attribute),
                !literals.mayMatch(pairs: pairs)
            {
                return false
            }
            return compiled.isFound(in: value.description)
        case .number(let op, let constant):
            let number: Number?
            switch value {
            case .integer(let i): number = .integer(i)
            case .string(let s): number = Number.parse(s.utf8)
            }
            guard let number else { return false }
            return op.holds(Number.compare(number, constant))
        case .fieldReference(let others, let cased):
            let text = value.description
            for other in others {
                guard let otherValue = event.value(of: other)?.description else { continue }
                if cased ? text == otherValue : foldedEquals(text, otherValue) { return true }
            }
            return false
        case .exists, .isNull:
            return false
        }
    }

    /// Whether the pattern matches the whole of `text` (as ``SigmaPattern/matches(_:)``).
    @inline(__always)
    private func holdsPattern(in text: UnsafeBufferPointer<UInt8>) -> Bool {
        shapeBytes.withUnsafeBufferPointer { b in
            switch shape {
            case .anything: return true
            case .equals: return text.count == b.count && Self.equal(text, 0, b, cased: cased)
            case .prefix: return text.count >= b.count && Self.equal(text, 0, b, cased: cased)
            case .suffix: return text.count >= b.count && Self.equal(text, text.count - b.count, b, cased: cased)
            case .contains: return Self.contains(text, b, cased: cased)
            case .glob, .notAPattern: return pattern.unsafelyUnwrapped.matches(text)
            }
        }
    }

    /// Whether `needle` (folded unless `cased`, not empty) occurs in `text`. Eight positions at a
    /// time are looked at for the needle's first byte (with bit 0x20 set in both when not
    /// `cased`: the same for both cases of a letter); only where it may be is the needle compared.
    private static func contains(
        _ text: UnsafeBufferPointer<UInt8>,
        _ needle: UnsafeBufferPointer<UInt8>,
        cased: Bool
    )
        -> Bool
    {
        guard text.count >= needle.count, !needle.isEmpty else { return text.count >= needle.count }
        let last = text.count - needle.count  // the last position the needle can start at
        let ones: UInt64 = 0x0101_0101_0101_0101
        let caseBit: UInt64 = cased ? 0 : 0x20 &* ones
        let first = UInt64(needle[0]) &* ones | caseBit
        var start = 0
        while start + 8 <= text.count, start <= last {
            let word = UInt64(littleEndian: UnsafeRawPointer(text.baseAddress! + start).loadUnaligned(as: UInt64.self))
            let x = (word | caseBit) ^ first  // a zero byte where the first byte may be
            var zeros = (x &- ones) & ~x & (0x80 &* ones)  // each zero byte flagged (and maybe others: checked)
            while zeros != 0 {
                let at = start + zeros.trailingZeroBitCount >> 3
                if at <= last, equal(text, at, needle, cased: cased) { return true }
                zeros &= zeros &- 1
            }
            start += 8
        }
        while start <= last {
            if equal(text, start, needle, cased: cased) { return true }
            start += 1
        }
        return false
    }

    /// Whether `bytes` (folded unless `cased`) are in `text` at `start`.
    @inline(__always)
    private static func equal(
        _ text: UnsafeBufferPointer<UInt8>,
        _ start: Int,
        _ bytes: UnsafeBufferPointer<UInt8>,
        cased: Bool
    ) -> Bool {
        var k = 0
        if cased {
            while k < bytes.count {
                if text[start + k] != bytes[k] { return false }
                k += 1
            }
        } else {
            while k < bytes.count {
                if asciiLower(text[start + k]) != bytes[k] { return false }
                k += 1
            }
        }
        return true
    }

    private static func holds(
        _ pattern: SigmaPattern,
        for value: AttributeValue,
        of attribute: EventAttribute,
        in event: inout FilterSubject
    ) -> Bool {
        switch value {
        case .string(let s):
            if case .contains(let needle) = pattern.shape, let pairs = event.bytePairs(of: attribute),
                !pairs.mayContain(needle)
            {
                return false
            }
            return pattern.matches(s)
        case .integer(let i): return pattern.matches(String(i))
        }
    }

    /// The last path component every value this test matches ends in, when the test reads only
    /// the given path attributes (`invokedPath` and `exePath` for `Image`, `parentExePath` for
    /// `ParentImage`) and its pattern fixes that component.
    func requiredLastComponent(readingOnly paths: [EventAttribute]) -> String? {
        guard case .pattern(let pattern) = test, !attributes.isEmpty, attributes.allSatisfy(paths.contains)
        else { return nil }
        return pattern.requiredLastComponent
    }

    /// The text (the command line, or `Image`'s paths) and the literals (folded to lower case) one
    /// of which it contains whenever this test holds: the longest literal part of its pattern, or
    /// the literals its regex requires. Nil when the test reads other attributes or requires no
    /// literal of two bytes or more.
    var requiredLiterals: (text: GuardedText, literals: [[UInt8]])? {
        let text: GuardedText
        if attributes == [.args] {
            text = .commandLine
        } else if !attributes.isEmpty, attributes.allSatisfy(RuleIndex.imagePaths.contains) {
            text = .image
        } else {
            return nil
        }
        let literals: [[UInt8]]
        switch test {
        case .pattern(let pattern): literals = [pattern.longestLiteral]
        case .regex(let compiled): literals = compiled.requiredLiterals?.bytes ?? []
        default: return nil
        }
        guard !literals.isEmpty, literals.allSatisfy({ $0.count >= 2 }) else { return nil }
        return (text, literals.map(asciiLowercased))
    }

    var rendered: String {
        let subject = field.isEmpty ? "keyword" : field
        switch test {
        case .pattern(let p): return "\(subject) LIKE \(p.rendered)"
        case .regex(let r): return "\(subject) RE \(FilterConstant(text: r.pattern, isQuoted: true).rendered)"
        case .number(let op, let n):
            switch n {
            case .integer(let i): return "\(subject) \(op.rawValue) \(i)"
            case .double(let d): return "\(subject) \(op.rawValue) \(d)"
            }
        case .exists(let b): return "\(subject) EXISTS \(b)"
        case .isNull: return "\(subject) IS NULL"
        case .fieldReference(let others, let cased):
            return "\(subject) = FIELD(\(others.map(\.name).joined(separator: "|")))\(cased ? " cased" : "")"
        }
    }
}
