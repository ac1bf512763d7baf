import ExecEvents
import Testing

@testable import RuleEngine

/// A Sigma pattern test reads the event's texts in place and compares the pattern's bytes by its
/// shape; these tests compare it with the plain reading: the pattern matched against each
/// attribute's value as text (``SigmaPattern/matches(_:)`` of ``AttributeValue/description``).
@Suite struct SigmaFieldTestMatchingTests {
    /// Bytes that folding could confuse (`@` and `` ` ``, `[` and `{` differ by the case bit as
    /// letters do), a space, a slash and a dash, 0x01 and 0x21 (one above a byte the search
    /// looks for, or the case bit apart from it), and UTF-8 of `é`.
    private static let alphabet: [UInt8] = Array("aAbZ@`[{ -/1!".utf8) + [0x01, 0xC3, 0xA9]

    private static let fields: [(String, [EventAttribute])] = [
        ("Image", [.invokedPath, .exePath]),
        ("CommandLine", [.args]),
        ("CurrentDirectory", [.cwd]),
        ("User", [.user]),
        ("ParentImage", [.parentExePath]),
        ("ProcessId", [.procId]),
    ]

    private func random(_ length: Int, _ generator: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<length).map { _ in Self.alphabet.randomElement(using: &generator)! }
    }

    private func randomText(_ generator: inout some RandomNumberGenerator) -> String? {
        Int.random(in: 0..<8, using: &generator) == 0
            ? nil : String(decoding: random(Int.random(in: 0...6, using: &generator), &generator), as: UTF8.self)
    }

    private func randomEvent(_ generator: inout some RandomNumberGenerator) -> ExecEvent {
        var arguments: [[UInt8]]?
        if Int.random(in: 0..<6, using: &generator) != 0 {
            // Some argvs long enough for their byte pairs to be read (512 bytes and more).
            let long = Bool.random(using: &generator)
            arguments = (0..<Int.random(in: 1...4, using: &generator)).map { _ in
                random(
                    long ? Int.random(in: 100...400, using: &generator) : Int.random(in: 0...5, using: &generator),
                    &generator
                )
            }
        }
        return ExecEvent(
            eventTime: EventTime(millisecondsSinceEpoch: 1_700_000_000_000),
            hostName: "h",
            user: randomText(&generator),
            procId: Bool.random(using: &generator) ? Int64.random(in: 0...120, using: &generator) : nil,
            parentExePath: randomText(&generator),
            invokedPath: randomText(&generator),
            exePath: randomText(&generator),
            cwd: randomText(&generator),
            args: arguments.map { ArgumentVector($0) }
        )
    }

    /// A random value with wildcards: every shape (`equals`, `prefix`, `suffix`, `contains`,
    /// `anything`, glob) comes up.
    private func randomValue(_ generator: inout some RandomNumberGenerator) -> String {
        var value = ""
        if Bool.random(using: &generator) { value += "*" }
        value += String(decoding: random(Int.random(in: 0...3, using: &generator), &generator), as: UTF8.self)
        if Int.random(in: 0..<4, using: &generator) == 0 { value += ["?", "*"].randomElement(using: &generator)! }
        value += String(decoding: random(Int.random(in: 0...2, using: &generator), &generator), as: UTF8.self)
        if Bool.random(using: &generator) { value += "*" }
        return value
    }

    @Test func aPatternTestHoldsExactlyWhenAValueAsTextMatches() {
        var generator = SystemRandomNumberGenerator()
        var outcomes = Set<Bool>()
        for _ in 0..<300 {
            let events = (0..<20).map { _ in randomEvent(&generator) }
            for _ in 0..<20 {
                let (field, attributes) = Self.fields.randomElement(using: &generator)!
                let pattern = SigmaPattern(
                    tokens: SigmaPattern.tokens(of: randomValue(&generator)),
                    cased: Int.random(in: 0..<4, using: &generator) == 0
                )
                let test = SigmaFieldTest(field: field, attributes: attributes, test: .pattern(pattern))
                for event in events {
                    let expected = attributes.contains {
                        event.value(of: $0).map { pattern.matches($0.description) } ?? false
                    }
                    var subject = FilterSubject(event)
                    #expect(test.matches(&subject) == expected, "\(test.rendered) on \(event)")
                    outcomes.insert(expected)
                }
            }
        }
        #expect(outcomes == [true, false])
    }
}
