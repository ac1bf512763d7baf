import Testing

@testable import AuditCapture

@Suite("stream line buffer")
struct StreamLineBufferTests {
    /// Feeds `input` in chunks of the sizes given (in turn); returns the lines and overlong count.
    static func split(
        _ input: String,
        chunks: [Int],
        maximum: Int = 1 << 20,
        initialCapacity: Int = 16
    ) -> (lines: [String], overlong: Int) {
        var buffer = StreamLineBuffer(maximumLineLength: maximum, initialCapacity: initialCapacity)
        let bytes = Array(input.utf8)
        var offset = 0
        var turn = 0
        var lines: [String] = []
        var overlong = 0
        while true {
            let wanted = chunks[turn % chunks.count]
            turn += 1
            let count = buffer.fill { space in
                let size = min(wanted, space.count, bytes.count - offset)
                for index in 0..<size { space[index] = bytes[offset + index] }
                offset += size
                return size
            }
            if count == 0 { break }
            buffer.takeLines({ lines.append(String(decoding: $0, as: UTF8.self)) }, overlong: { overlong += 1 })
        }
        buffer.finish { lines.append(String(decoding: $0, as: UTF8.self)) }
        return (lines, overlong)
    }

    @Test("lines split across reads of any size come out whole", arguments: [[1], [3, 7], [16], [1000]])
    func partialLines(chunks: [Int]) {
        let input = "type=SYSCALL a\ntype=EXECVE argc=2 a0=\"nc\" a1=\"-h\"\n\nlast"
        #expect(
            Self.split(input, chunks: chunks).lines == [
                "type=SYSCALL a", "type=EXECVE argc=2 a0=\"nc\" a1=\"-h\"", "", "last",
            ]
        )
    }

    @Test("the buffer grows for a long line (10 KB) up to the maximum")
    func longLine() {
        let long = String(repeating: "a", count: 10_000)
        let result = Self.split("x\n\(long)\ny\n", chunks: [4096], maximum: 10_000)
        #expect(result.lines == ["x", long, "y"])
        #expect(result.overlong == 0)
    }

    @Test("a line over the maximum is reported once and skipped through its newline")
    func overlongLine() {
        let long = String(repeating: "b", count: 5000)
        let result = Self.split("x\n\(long)\ny\n\(long)", chunks: [64, 1], maximum: 1000)
        #expect(result.lines == ["x", "y"])
        #expect(result.overlong == 2)
    }
}
