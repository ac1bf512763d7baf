/// The uids of `/proc/PID/status` (`Uid:\treal\teffective\tsaved\tfilesystem`).
struct ProcStatusIDs: Equatable {
    var realUID: UInt32
    var effectiveUID: UInt32

    /// Finds the `Uid:` line in the bytes of `/proc/PID/status`; nil when there is none.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> ProcStatusIDs? {
        let key: [UInt8] = Array("Uid:".utf8)
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
            if line.starts(with: key) {
                var index = key.count
                guard let real = nextNumber(in: line, from: &index),
                    let effective = nextNumber(in: line, from: &index)
                else { return nil }
                return ProcStatusIDs(realUID: real, effectiveUID: effective)
            }
            lineStart = lineEnd + 1
        }
        return nil
    }

    /// The whitespace-separated number at `index`, which moves past it.
    private static func nextNumber(in line: UnsafeRawBufferPointer, from index: inout Int) -> UInt32? {
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "\t") || byte == UInt8(ascii: " ") }
        while index < line.count, isBlank(line[index]) { index += 1 }
        let start = index
        while index < line.count, !isBlank(line[index]) { index += 1 }
        guard let value = decimal(UnsafeRawBufferPointer(rebasing: line[start..<index])), value <= UInt32.max else {
            return nil
        }
        return UInt32(value)
    }
}
