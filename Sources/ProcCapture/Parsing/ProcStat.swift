/// The fields of `/proc/PID/stat` the agent uses.
///
/// `comm` sits in parentheses as field 2 and may itself contain spaces and parentheses, so the
/// numbered fields are read after the LAST `)`.
struct ProcStat: Equatable {
    /// Where `comm` lies in the parsed bytes (between the first `(` and the last `)`).
    var commRange: Range<Int>
    var state: UInt8
    var parentPID: Int32
    /// The controlling terminal, as the kernel encodes it (0 when none).
    var terminalNumber: UInt32
    var flags: UInt32
    /// Clock ticks after boot when the process started: with the pid, it names one process.
    var startTime: UInt64
    /// Where the program's code starts; 0 for kernel threads and exited processes.
    var startCode: UInt64
    /// Where the main stack starts (set by exec, randomized on most hosts); 0 without memory.
    var startStack: UInt64

    /// `PF_KTHREAD` in `flags`.
    static let kernelThreadFlag: UInt32 = 0x0020_0000

    var isKernelThread: Bool { flags & Self.kernelThreadFlag != 0 }

    /// Parses the bytes of `/proc/PID/stat`; nil when they are not in that form.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> ProcStat? {
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")),
            let close = bytes.lastIndex(of: UInt8(ascii: ")")), open < close
        else { return nil }
        var stat = ProcStat(
            commRange: open + 1..<close,
            state: 0,
            parentPID: 0,
            terminalNumber: 0,
            flags: 0,
            startTime: 0,
            startCode: 0,
            startStack: 0
        )
        // Fields after comm, numbered as proc(5) numbers them: 3 is the state.
        var field = 3
        var index = close + 1
        var sawStartStack = false
        while index < bytes.count, !sawStartStack {
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
            guard index < bytes.count else { break }
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: " "), bytes[index] != UInt8(ascii: "\n") {
                index += 1
            }
            let token = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
            switch field {
            case 3: stat.state = token.first ?? 0
            case 4:
                guard let value = decimal(token) else { return nil }
                stat.parentPID = Int32(truncatingIfNeeded: value)
            case 7: stat.terminalNumber = UInt32(truncatingIfNeeded: signedDecimal(token) ?? 0)
            case 9: stat.flags = UInt32(truncatingIfNeeded: decimal(token) ?? 0)
            case 22:
                guard let value = decimal(token) else { return nil }
                stat.startTime = value
            case 26: stat.startCode = decimal(token) ?? 0
            case 28:
                stat.startStack = decimal(token) ?? 0
                sawStartStack = true
            default: break
            }
            field += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "\n") { break }
        }
        return field > 22 ? stat : nil
    }
}

/// An unsigned decimal number; nil when the bytes are empty or not all digits.
func decimal(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
    guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
    var value: UInt64 = 0
    for byte in bytes {
        guard byte >= 0x30, byte <= 0x39 else { return nil }
        let (shifted, overflowTimes) = value.multipliedReportingOverflow(by: 10)
        let (sum, overflowAdd) = shifted.addingReportingOverflow(UInt64(byte - 0x30))
        guard !overflowTimes, !overflowAdd else { return nil }
        value = sum
    }
    return value
}

/// A decimal number that may start with `-`.
func signedDecimal(_ bytes: UnsafeRawBufferPointer) -> Int64? {
    if bytes.first == UInt8(ascii: "-") {
        return decimal(UnsafeRawBufferPointer(rebasing: bytes.dropFirst())).map { -Int64(truncatingIfNeeded: $0) }
    }
    return decimal(bytes).map { Int64(truncatingIfNeeded: $0) }
}
