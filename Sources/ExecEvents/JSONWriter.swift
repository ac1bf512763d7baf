/// Builds one JSON value into a byte buffer, by hand, without Foundation.
///
/// Keys and separators are the caller's business (`key(_:)` writes the comma as needed); strings are
/// escaped per RFC 8259 and byte strings that are not valid UTF-8 have each invalid sequence replaced
/// by U+FFFD, so the output is always valid UTF-8 JSON.
public struct JSONWriter {
    public private(set) var bytes: [UInt8]
    /// Open objects and arrays: whether each already holds a value (its next one needs a comma).
    private var open = OpenContainers()

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the writer for the next value, keeping its buffer.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        open.removeAll()
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        open.push()
    }

    public mutating func endObject() {
        open.pop()
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        open.push()
    }

    public mutating func endArray() {
        open.pop()
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes `"name":`; the value follows with one of the value methods.
    public mutating func key(_ name: String) {
        separate()
        appendEscaped(name)
        bytes.append(UInt8(ascii: ":"))
        open.innermostTakesNoComma()
    }

    /// Writes `"name":` for a name that needs no escaping (ASCII letters and digits, as every
    /// attribute name is): copied as it is, without looking at its characters.
    public mutating func key(plain name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        open.innermostTakesNoComma()
    }

    public mutating func string(_ value: String) {
        separate()
        appendEscaped(value)
    }

    /// A time as an RFC 3339 string (see ``EventTime/rfc3339``).
    public mutating func string(time: EventTime) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        time.appendRFC3339(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A string from raw bytes (invalid UTF-8 is replaced by U+FFFD).
    public mutating func string<Bytes: Collection>(bytes value: Bytes) where Bytes.Element == UInt8 {
        separate()
        appendEscapedBytes(value)
    }

    /// A string from raw bytes, as ``string(bytes:)``; returns whether they were all ASCII (then
    /// valid UTF-8, written as they are but for escapes).
    mutating func string(reportingASCII value: [UInt8]) -> Bool {
        separate()
        return appendEscapedBytes(value)
    }

    public mutating func integer(_ value: Int64) {
        separate()
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var v = value.magnitude
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while v > 0 {
                d[count] = UInt8(v % 10) + 0x30
                v /= 10
                count += 1
            }
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            while count > 0 {
                count -= 1
                bytes.append(d[count])
            }
        }
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: value ? Array("true".utf8) : Array("false".utf8))
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
    }

    /// Writes a value already rendered as JSON text (no check is made).
    public mutating func raw(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
    }

    public mutating func value(_ value: AttributeValue) {
        switch value {
        case .string(let s): string(s)
        case .integer(let i): integer(i)
        }
    }

    private mutating func separate() {
        if open.innermostTakesComma() { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func appendEscaped(_ value: String) {
        var value = value
        value.withUTF8 { appendValidUTF8Escaped($0) }
    }

    private mutating func appendValidUTF8Escaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        _ = appendEscapedRuns(utf8, stopAtNonASCII: false)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Returns whether the bytes were all ASCII (written as they are, but for escapes); when not,
    /// they went through String, which replaces invalid UTF-8.
    @discardableResult
    private mutating func appendEscapedBytes<Bytes: Collection>(_ value: Bytes) -> Bool where Bytes.Element == UInt8 {
        let done: Bool? = value.withContiguousStorageIfAvailable { buffer in
            // Plain ASCII needs only escaping of quote, backslash and control bytes; anything else
            // goes through String, which replaces invalid UTF-8.
            let start = bytes.count
            bytes.append(UInt8(ascii: "\""))
            guard appendEscapedRuns(buffer, stopAtNonASCII: true) else {
                bytes.removeSubrange(start...)
                return false
            }
            bytes.append(UInt8(ascii: "\""))
            return true
        }
        if done == true { return true }
        if done == nil, value.allSatisfy({ $0 < 0x80 }) { return appendEscapedBytes(Array(value)) }
        appendEscaped(String(decoding: value, as: UTF8.self))
        return false
    }

    /// Appends `text` escaped, copying the runs between bytes that need an escape whole (see
    /// ``firstByteToEscape(in:from:stopAtNonASCII:)``). With `stopAtNonASCII`, returns false at
    /// the first byte above 0x7f (what was appended is left for the caller to remove).
    @inline(__always)
    private mutating func appendEscapedRuns(_ text: UnsafeBufferPointer<UInt8>, stopAtNonASCII: Bool) -> Bool {
        guard let start = text.baseAddress else { return true }
        let base = UnsafeRawBufferPointer(text)
        var runStart = 0
        while true {
            let i = Self.firstByteToEscape(in: base, from: runStart, stopAtNonASCII: stopAtNonASCII)
            if i > runStart {
                bytes.append(contentsOf: UnsafeBufferPointer(start: start + runStart, count: i - runStart))
            }
            guard i < text.count else { return true }
            let c = start[i]
            if c >= 0x80 { return false }  // (only found when stopping there)
            appendEscape(c)
            runStart = i + 1
        }
    }

    /// The position of the first byte of `text[from...]` that a JSON string cannot hold as it is
    /// (below 0x20, `"`, `\`) or, with `stopAtNonASCII`, that is above 0x7f; `text.count` when
    /// there is none. Thirty-two bytes, then sixteen, at a time, compared as signed bytes (a
    /// byte of 0x80 or more is below 0x20 then; it is kept apart when not stopping there).
    @inline(__always)
    static func firstByteToEscape(in text: UnsafeRawBufferPointer, from start: Int, stopAtNonASCII: Bool) -> Int {
        typealias Bytes = SIMD16<Int8>
        let count = text.count
        guard let base = text.baseAddress else { return count }
        // Vector against vector: Swift's operators taking a scalar are not single instructions.
        @inline(__always)
        func needsEscape(_ x: Bytes) -> SIMDMask<Bytes.MaskStorage> {
            var special = x .< Bytes(repeating: 0x20)
            if !stopAtNonASCII { special .&= x .>= Bytes(repeating: 0) }
            return special .| (x .== Bytes(repeating: 0x22)) .| (x .== Bytes(repeating: 0x5C))
        }
        var i = start
        while i + 32 <= count {
            let first = needsEscape(base.loadUnaligned(fromByteOffset: i, as: Bytes.self))
            let second = needsEscape(base.loadUnaligned(fromByteOffset: i + 16, as: Bytes.self))
            if any(first .| second) { break }
            i += 32
        }
        while i + 16 <= count {
            let found = needsEscape(base.loadUnaligned(fromByteOffset: i, as: Bytes.self))
            if any(found) {
                let halves = unsafeBitCast(found, to: SIMD2<UInt64>.self)
                let low = halves[0].trailingZeroBitCount / 8
                return i + (halves[0] != 0 ? low : 8 + halves[1].trailingZeroBitCount / 8)
            }
            i += 16
        }
        while i < count {
            let c = base.load(fromByteOffset: i, as: UInt8.self)
            if c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || (stopAtNonASCII && c >= 0x80) {
                return i
            }
            i += 1
        }
        return count
    }

    private mutating func appendEscape(_ c: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch c {
        case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        default:
            // `\u00XX`, lower-case hex (the bytes here are below 0x20).
            bytes.append(UInt8(ascii: "u"))
            bytes.append(UInt8(ascii: "0"))
            bytes.append(UInt8(ascii: "0"))
            bytes.append(UInt8(ascii: "0") + c >> 4)
            let low = c & 0xF
            bytes.append(low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + low - 10)
        }
    }
}

/// The objects and arrays a ``JSONWriter`` has open, innermost last, each with whether it holds a
/// value yet: one bit each in a word for the first 64 levels (every value written asks the
/// innermost one, and an array's push, check and store cost more than the value's own bytes),
/// an array beyond.
private struct OpenContainers {
    private var depth = 0
    /// Bit `d`: the container at depth `d + 1` holds a value.
    private var holdsValue: UInt64 = 0
    /// Containers deeper than 64 levels, from the 65th.
    private var deeper: [Bool] = []

    mutating func removeAll() {
        depth = 0
        holdsValue = 0
        deeper.removeAll(keepingCapacity: true)
    }

    mutating func push() {
        depth += 1
        if depth <= 64 {
            holdsValue &= ~(1 << UInt64(depth - 1))
        } else {
            deeper.append(false)
        }
    }

    mutating func pop() {
        precondition(depth > 0, "JSONWriter: no object or array is open")
        if depth > 64 { deeper.removeLast() }
        depth -= 1
    }

    /// Whether the next value needs a comma before it (the innermost container holds a value);
    /// from now on it does. False outside any container.
    @inline(__always)
    mutating func innermostTakesComma() -> Bool {
        guard depth > 0 else { return false }
        if depth <= 64 {
            let bit: UInt64 = 1 << UInt64(depth - 1)
            defer { holdsValue |= bit }
            return holdsValue & bit != 0
        }
        defer { deeper[depth - 65] = true }
        return deeper[depth - 65]
    }

    /// After a key: its value takes no comma.
    @inline(__always)
    mutating func innermostTakesNoComma() {
        guard depth > 0 else { return }
        if depth <= 64 {
            holdsValue &= ~(1 << UInt64(depth - 1))
        } else {
            deeper[depth - 65] = false
        }
    }
}
