/// Builds one JSON value into a byte buffer, by hand, without Foundation.
///
/// Keys and separators are the caller's business (`key(_:)` writes the comma as needed); strings are
/// escaped per RFC 8259 and byte strings that are not valid UTF-8 have each invalid sequence replaced
/// by U+FFFD, so the output is always valid UTF-8 JSON.
public struct JSONWriter {
    public private(set) var bytes: [UInt8]
    /// Open objects and arrays: whether each already holds a value (its next one needs a comma).
    private var open = OpenContainers()
    /// Where ``string(joining:from:)`` last wrote each value escaped, in ``bytes``: value `k`
    /// from `joinedStarts[k]` to `joinedStarts[k + 1] - 1` (before the space or closing quote).
    /// Kept across values, so it is not allocated per event.
    private var joinedStarts: [Int] = []

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the writer for the next value, keeping its buffer.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        open.removeAll()
        joinedStarts.removeAll(keepingCapacity: true)
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
        appendEscaped(name, comma: open.innermostTakesComma())
        bytes.append(UInt8(ascii: ":"))
        open.innermostTakesNoComma()
    }

    /// Writes `"name":` for a name that needs no escaping (ASCII letters and digits, as every
    /// attribute name is): copied as it is, without looking at its characters.
    public mutating func key(plain name: StaticString) {
        let comma = open.innermostTakesComma()
        open.innermostTakesNoComma()
        name.withUTF8Buffer { name in
            write(atMost: name.count + 4) { out in
                var at = 0
                if comma {
                    out[0] = UInt8(ascii: ",")
                    at = 1
                }
                out[at] = UInt8(ascii: "\"")
                if let source = name.baseAddress { (out + at + 1).initialize(from: source, count: name.count) }
                at += name.count + 1
                out[at] = UInt8(ascii: "\"")
                out[at + 1] = UInt8(ascii: ":")
                return at + 2
            }
        }
    }

    public mutating func string(_ value: String) {
        appendEscaped(value, comma: open.innermostTakesComma())
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
        appendEscapedBytes(value, comma: open.innermostTakesComma())
    }

    /// A string from raw bytes, as ``string(bytes:)``; returns whether they were all ASCII (then
    /// valid UTF-8, written as they are but for escapes).
    mutating func string(reportingASCII value: UnsafeBufferPointer<UInt8>) -> Bool {
        appendEscapedBytes(value, comma: open.innermostTakesComma())
    }

    /// Arguments `first…` joined by single spaces, as one string: what ``string(_:)`` writes of
    /// ``ArgumentVector/joinedText(from:)``, escaped straight from the arguments when they are
    /// ASCII (the joined text is built only when they are not). An empty string when `first` is
    /// past them. Returns whether the arguments were ASCII: each one's escaped form may then be
    /// written again by ``string(copyingJoined:)``.
    @discardableResult
    public mutating func string(joining values: ArgumentVector, from first: Int) -> Bool {
        let first = Swift.min(first, values.count)
        let comma = open.innermostTakesComma()
        var ascii = true
        // Moved out for the writing (the buffer is written meanwhile), and back.
        var starts = joinedStarts
        joinedStarts = []
        starts.removeAll(keepingCapacity: true)
        let offset = bytes.count
        values.withArguments { values, ends in
            // A comma, the quotes, a space between arguments, six bytes at most per byte.
            let firstStart = ArgumentVector.start(of: first, ends: ends)
            let most = 3 + (ends.count - first) + 6 * (values.count - firstStart)
            write(atMost: most) { out in
                var at = 0
                if comma {
                    out[0] = UInt8(ascii: ",")
                    at = 1
                }
                out[at] = UInt8(ascii: "\"")
                at += 1
                for i in first..<ends.count {
                    if i > first {
                        out[at] = 0x20
                        at += 1
                    }
                    starts.append(offset + at)
                    let argument = ArgumentVector.argument(i, in: values, ends: ends)
                    guard let written = Self.writeEscaped(argument, to: out + at, stopAtNonASCII: true) else {
                        ascii = false
                        return 0
                    }
                    at += written
                }
                starts.append(offset + at + 1)
                out[at] = UInt8(ascii: "\"")
                return at + 1
            }
        }
        if ascii {
            joinedStarts = starts
            return true
        }
        joinedStarts = []
        appendEscaped(values.joinedText(from: first), comma: comma)
        return false
    }

    /// Writes value `k` of the last ``string(joining:from:)`` (counted from its `first`) again,
    /// as a string of its own: its escaped bytes copied, not escaped again. Only after that call
    /// returned true, with nothing removed since.
    public mutating func string(copyingJoined k: Int) {
        precondition(k + 1 < joinedStarts.count, "JSONWriter: no such joined value")
        let start = joinedStarts[k]
        let count = joinedStarts[k + 1] - 1 - start
        let comma = open.innermostTakesComma()
        let written = bytes.count
        write(atMost: count + 3) { out in
            var at = 0
            if comma {
                out[0] = UInt8(ascii: ",")
                at = 1
            }
            out[at] = UInt8(ascii: "\"")
            // The escaped value lies before `out` in the same buffer, which has room for all this.
            (out + at + 1).initialize(from: out - (written - start), count: count)
            out[at + count + 1] = UInt8(ascii: "\"")
            return at + count + 2
        }
    }

    public mutating func integer(_ value: Int64) {
        let comma = open.innermostTakesComma()
        // A comma, a sign and at most 19 digits.
        write(atMost: 21) { out in
            var at = 0
            if comma {
                out[0] = UInt8(ascii: ",")
                at = 1
            }
            if value < 0 {
                out[at] = UInt8(ascii: "-")
                at += 1
            }
            var digits = 1
            var v = value.magnitude
            while v >= 10 {
                v /= 10
                digits += 1
            }
            v = value.magnitude
            var i = at + digits
            repeat {
                i -= 1
                out[i] = UInt8(v % 10) + 0x30
                v /= 10
            } while v > 0
            return at + digits
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

    /// Appends `value` in quotes, escaped, after a comma when `comma`.
    private mutating func appendEscaped(_ value: String, comma: Bool) {
        let done: Void? = value.utf8.withContiguousStorageIfAvailable {
            _ = appendQuotedEscaped($0, comma: comma, stopAtNonASCII: false)
        }
        if done == nil {
            var value = value
            value.withUTF8 { _ = appendQuotedEscaped($0, comma: comma, stopAtNonASCII: false) }
        }
    }

    /// Appends `count` bytes or fewer, written by `body` at the pointer it is given (room for
    /// `count` bytes); `body` returns how many it wrote. One check of the buffer per value instead
    /// of one per byte appended, which cost more than the writing.
    @inline(__always)
    private mutating func write(atMost count: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if bytes.capacity - bytes.count < count {
            // Grown by doubling: reserving the exact size would copy the buffer at every value.
            bytes.reserveCapacity(Swift.max(bytes.count + count, 2 * bytes.capacity))
        }
        bytes.append(addingCapacity: count) { span in
            span.withUnsafeMutableBufferPointer { buffer, initialized in
                initialized += body(buffer.baseAddress! + initialized)
            }
        }
    }

    /// Appends `text` in quotes, escaped, after a comma when `comma`; with `stopAtNonASCII`,
    /// appends nothing and returns false when it holds a byte above 0x7f.
    @inline(__always)
    private mutating func appendQuotedEscaped(
        _ text: UnsafeBufferPointer<UInt8>,
        comma: Bool,
        stopAtNonASCII: Bool
    ) -> Bool {
        var ascii = true
        // Escaping makes a byte six at most (`\u001f`).
        write(atMost: 6 * text.count + 3) { out in
            var at = 0
            if comma {
                out[0] = UInt8(ascii: ",")
                at = 1
            }
            out[at] = UInt8(ascii: "\"")
            guard let written = Self.writeEscaped(text, to: out + at + 1, stopAtNonASCII: stopAtNonASCII) else {
                ascii = false
                return 0
            }
            at += written + 1
            out[at] = UInt8(ascii: "\"")
            return at + 1
        }
        return ascii
    }

    /// Returns whether the bytes were all ASCII (written as they are, but for escapes); when not,
    /// they went through String, which replaces invalid UTF-8.
    @discardableResult
    private mutating func appendEscapedBytes<Bytes: Collection>(
        _ value: Bytes,
        comma: Bool
    ) -> Bool where Bytes.Element == UInt8 {
        let done: Bool? = value.withContiguousStorageIfAvailable { buffer in
            // Plain ASCII needs only escaping of quote, backslash and control bytes; anything else
            // goes through String, which replaces invalid UTF-8.
            appendQuotedEscaped(buffer, comma: comma, stopAtNonASCII: true)
        }
        if done == true { return true }
        if done == nil, value.allSatisfy({ $0 < 0x80 }) { return appendEscapedBytes(Array(value), comma: comma) }
        appendEscaped(String(decoding: value, as: UTF8.self), comma: comma)
        return false
    }

    /// Writes `text` escaped at `out` (room for six bytes per byte of it), copying the runs
    /// between bytes that need an escape whole (see ``firstByteToEscape(in:from:stopAtNonASCII:)``);
    /// returns how many bytes it wrote. With `stopAtNonASCII`, returns nil at the first byte
    /// above 0x7f.
    @inline(__always)
    private static func writeEscaped(
        _ text: UnsafeBufferPointer<UInt8>,
        to out: UnsafeMutablePointer<UInt8>,
        stopAtNonASCII: Bool
    ) -> Int? {
        guard let start = text.baseAddress else { return 0 }
        let base = UnsafeRawBufferPointer(text)
        var runStart = 0
        var at = 0
        while true {
            let i = Self.firstByteToEscape(in: base, from: runStart, stopAtNonASCII: stopAtNonASCII)
            if i > runStart {
                (out + at).initialize(from: start + runStart, count: i - runStart)
                at += i - runStart
            }
            guard i < text.count else { return at }
            let c = start[i]
            if c >= 0x80 { return nil }  // (only found when stopping there)
            at += writeEscape(c, to: out + at)
            runStart = i + 1
        }
    }

    /// The position of the first byte of `text[from...]` that a JSON string cannot hold as it is
    /// (below 0x20, `"`, `\`) or, with `stopAtNonASCII`, that is above 0x7f; `text.count` when
    /// there is none. Thirty-two bytes, then sixteen, at a time, then the last sixteen, compared
    /// as signed bytes (a byte of 0x80 or more is below 0x20 then; it is kept apart when not
    /// stopping there); a text shorter than sixteen bytes byte by byte.
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
        if i < count, count >= 16 {
            // The last sixteen bytes, overlapping the ones passed (their lanes cleared): most
            // strings end in fewer than sixteen bytes that a loop took one by one.
            let tail = count - 16
            let found = unsafeBitCast(
                needsEscape(base.loadUnaligned(fromByteOffset: tail, as: Bytes.self)),
                to: SIMD2<UInt64>.self
            )
            let passed = i - tail  // 1 to 15
            let low = passed >= 8 ? 0 : found[0] & (~0 << (8 * passed))
            let high = passed >= 8 ? found[1] & (~0 << (8 * (passed - 8))) : found[1]
            if low != 0 { return tail + low.trailingZeroBitCount / 8 }
            return high != 0 ? tail + 8 + high.trailingZeroBitCount / 8 : count
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

    /// Writes the escape of `c` (a quote, a backslash or a byte below 0x20) at `out`; returns
    /// its length (two or six).
    private static func writeEscape(_ c: UInt8, to out: UnsafeMutablePointer<UInt8>) -> Int {
        out[0] = UInt8(ascii: "\\")
        switch c {
        case UInt8(ascii: "\""): out[1] = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): out[1] = UInt8(ascii: "\\")
        case 0x0A: out[1] = UInt8(ascii: "n")
        case 0x0D: out[1] = UInt8(ascii: "r")
        case 0x09: out[1] = UInt8(ascii: "t")
        case 0x08: out[1] = UInt8(ascii: "b")
        case 0x0C: out[1] = UInt8(ascii: "f")
        default:
            // `\u00XX`, lower-case hex (the bytes here are below 0x20).
            out[1] = UInt8(ascii: "u")
            out[2] = UInt8(ascii: "0")
            out[3] = UInt8(ascii: "0")
            out[4] = UInt8(ascii: "0") + c >> 4
            let low = c & 0xF
            out[5] = low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + low - 10
            return 6
        }
        return 2
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
