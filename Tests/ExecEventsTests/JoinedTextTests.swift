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
            for start in 0...arguments.count {
                let slice = arguments[start...]
                let expected = String(decoding: Array(slice.joined(separator: [0x20])), as: UTF8.self)
                #expect(ExecEvent.joinedText(slice) == expected, "\(arguments), from \(start)")
            }
        }
    }
}
