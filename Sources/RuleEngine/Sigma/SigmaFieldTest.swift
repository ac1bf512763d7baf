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
    private enum PlainShape: Equatable {
        case notAPattern, anything, glob
        case placed(SigmaPattern.Placement)
    }

    init(field: String, attributes: [EventAttribute], test: Test) {
        self.field = field
        self.attributes = attributes
        self.test = test
        if case .pattern(let pattern) = test { self.pattern = pattern } else { self.pattern = nil }
        cased = pattern?.cased ?? false
        switch pattern?.shape {
        case nil: (shape, shapeBytes) = (.notAPattern, [])
        case .anything: (shape, shapeBytes) = (.anything, [])
        case .glob: (shape, shapeBytes) = (.glob, [])
        case let plain?:
            let (placement, bytes) = plain.placed!
            (shape, shapeBytes) = (.placed(placement), bytes)
        }
    }

    func matches(_ event: inout FilterSubject) -> Bool {
        if shape != .notAPattern {
            for k in attributes.indices {
                let attribute = attributes[k]
                // A long argv's byte pairs may tell that it cannot contain the needle.
                if shape == .placed(.contains), let pairs = event.bytePairs(of: attribute),
                    !pairs.mayContain(shapeBytes)
                {
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
            // Not reached: a pattern test is matched by its shape in matches(_:).
            return pattern.matches(value.description)
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
        switch shape {
        case .anything: return true
        case .placed(let placement):
            return shapeBytes.withUnsafeBufferPointer { SigmaPattern.holds(placement, of: $0, cased: cased, in: text) }
        case .glob, .notAPattern: return pattern.unsafelyUnwrapped.matches(text)
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
