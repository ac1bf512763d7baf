import Testing

@testable import ExecEvents

@Suite("Arguments joined as text")
struct JoinedTextTests {
    /// Every slice of argument lists (empty arguments, invalid UTF-8 at either end, one cut by a
    /// space) joins as `String(decoding:)` of the bytes joined by spaces.
    @Test func slicesJoinAsTheirBytesJoinedBySpaces() {
        let pieces: [[UInt8]] = [
            [], Array("nc".utf8), Array("-l 4444".utf8), [0xff], [0xc3], [0xa9, 0x61], Array("caf\u{e9}".utf8),
            [UInt8](repeating: UInt8(ascii: "x"), count: 40), [0xe2, 0x98], [0x95],
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<400 {
            let count = Int.random(in: 0...6, using: &generator)
            let arguments = (0..<count).map { _ in pieces.randomElement(using: &generator)! }
            let vector = ArgumentVector(arguments)
            for start in 0...(arguments.count + 1) {
                let slice = arguments.dropFirst(start)
                let expected = String(decoding: Array(slice.joined(separator: [0x20])), as: UTF8.self)
                #expect(vector.joinedText(from: start) == expected, "\(arguments), from \(start)")
            }
        }
    }

    /// The JSON string of arguments joined from their bytes is the one of their joined text:
    /// quotes, backslashes, control bytes, non-ASCII and invalid UTF-8 anywhere.
    @Test func joinedJSONStringIsTheOneOfTheJoinedText() {
        let pieces: [[UInt8]] = [
            [], Array("nc".utf8), Array("-l 4444".utf8), [0xff], [0xc3], [0xa9, 0x61], Array("caf\u{e9}".utf8),
            [UInt8](repeating: UInt8(ascii: "x"), count: 40), Array("a\"b\\c".utf8), [0x0a, 0x01, 0x1f, 0x7f],
            (0..<200).map { UInt8(truncatingIfNeeded: $0 * 7 % 128) },
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<400 {
            let count = Int.random(in: 0...6, using: &generator)
            let arguments = (0..<count).map { _ in pieces.randomElement(using: &generator)! }
            for first in 0...(arguments.count + 1) {
                var expected = JSONWriter()
                expected.beginArray()
                expected.integer(1)
                expected.string(
                    String(decoding: Array(arguments.dropFirst(first).joined(separator: [0x20])), as: UTF8.self)
                )
                expected.endArray()
                var written = JSONWriter()
                written.beginArray()
                written.integer(1)
                written.string(joining: ArgumentVector(arguments), from: first)
                written.endArray()
                #expect(written.bytes == expected.bytes, "\(arguments), from \(first)")
            }
        }
    }

    /// An event written deriving `swParam` from `args` (whose escaped forms are then copied from
    /// it) reads as the one that carries it: escapes, non-ASCII, invalid UTF-8, empty arguments.
    @Test func eventWrittenDerivingSwParamIsTheEventWithIt() {
        let pieces: [[UInt8]] = [
            [], Array("ls".utf8), Array("-l 4444".utf8), [0xff], Array("caf\u{e9}".utf8), Array("a\"b\\c".utf8),
            [0x0a, 0x01, 0x1f, 0x7f], [UInt8](repeating: UInt8(ascii: "x"), count: 5_000),
        ]
        var generator = SystemRandomNumberGenerator()
        var cases: [[[UInt8]]?] = [nil, [], [Array("ls".utf8)]]
        for _ in 0..<300 {
            let count = Int.random(in: 1...6, using: &generator)
            cases.append((0..<count).map { _ in pieces.randomElement(using: &generator)! })
        }
        for args in cases {
            var event = ExecEvent(
                eventTime: EventTime(millisecondsSinceEpoch: 0),
                hostName: "h",
                procId: 7,
                args: args.map { ArgumentVector($0) }
            )
            // One writer for all, as replay keeps it.
            var derived = JSONWriter()
            derived.removeAll()
            event.writeJSON(to: &derived, derivingSwParam: true)
            event.swParam = args.map {
                String(decoding: Array($0.dropFirst().joined(separator: [0x20])), as: UTF8.self)
            }
            var carried = JSONWriter()
            event.writeJSON(to: &carried)
            #expect(derived.bytes == carried.bytes, "\(String(describing: args))")
        }
    }
}
