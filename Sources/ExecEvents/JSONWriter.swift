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

    private mutating func appendEscapedBytes<Bytes: Collection>(_ value: Bytes) where Bytes.Element == UInt8 {
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
        if done == true { return }
        if done == nil, value.allSatisfy({ $0 < 0x80 }) {
            appendEscapedBytes(Array(value))
            return
        }
        appendEscaped(String(decoding: value, as: UTF8.self))
    }

    /// Appends `text` escaped, copying the runs between bytes that need an escape whole; the runs
    /// are found eight bytes at a time. With `stopAtNonASCII`, returns false at the first byte
    /// above 0x7f (what was appended is left for the caller to remove).
    private mutating func appendEscapedRuns(_ text: UnsafeBufferPointer<UInt8>, stopAtNonASCII: Bool) -> Bool {
        guard let start = text.baseAddress else { return true }
        let base = UnsafeRawPointer(start)
        let count = text.count
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var runStart = 0
        var i = 0
        while true {
            // Skip eight bytes at a time while none is a control byte, a quote, a backslash (or,
            // when stopping there, above 0x7f).
            while i + 8 <= count {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let control = (word &- ones &* 0x20) & ~word
                let quote = word ^ (ones &* 0x22)
                let backslash = word ^ (ones &* 0x5c)
                var special = control | ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
                if stopAtNonASCII { special |= word }
                if special & highs != 0 { break }
                i += 8
            }
            // Then byte by byte up to the next byte to escape.
            var found = false
            while i < count {
                let c = base.load(fromByteOffset: i, as: UInt8.self)
                if c >= 0x80 && stopAtNonASCII { return false }
                if c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") {
                    found = true
                    break
                }
                i += 1
                if i & 7 == 0 { break }
            }
            if found {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart..<i]))
                appendEscape(base.load(fromByteOffset: i, as: UInt8.self))
                i += 1
                runStart = i
            } else if i >= count {
                break
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[runStart..<count]))
        return true
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
            let hex = Array("0123456789abcdef".utf8)
            bytes.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]])
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
