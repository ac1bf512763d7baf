import ExecEvents

#if canImport(Glibc)
import Glibc
#endif

/// Walks the `key=value` fields of a record body, in order, without copying.
///
/// Values are `"quoted"` (taken literally, the kernel never escapes inside quotes), `'single
/// quoted'` (user-space messages), or bare up to the next space. Log lines written with
/// `log_format=ENRICHED` carry, after a `0x1d` byte, auditd's translations of some fields
/// (`UID="alice"`); ``isTranslated`` tells which side of that byte a field was on.
struct AuditFieldScanner {
    struct Field {
        var key: UnsafeRawBufferPointer
        /// The value without its quotes.
        var value: UnsafeRawBufferPointer
        var isQuoted: Bool
        var isTranslated: Bool
    }

    private let body: UnsafeRawBufferPointer
    private var i = 0
    /// Whether the 0x1d byte that starts the translations has been passed.
    private var translated = false

    init(_ body: UnsafeRawBufferPointer) {
        self.body = body
    }

    /// Scans from `offset`, a position an earlier scanner of the same body reached before any
    /// translated field (the 0x1d byte is then met again).
    init(_ body: UnsafeRawBufferPointer, from offset: Int) {
        self.body = body
        self.i = offset
    }

    /// Where the next field is looked for.
    var offset: Int { i }

    /// Inlined: a call per field cost more than most fields' scan (records have dozens).
    @inline(__always)
    mutating func next() -> Field? {
        guard let base = body.baseAddress else { return nil }
        let count = body.count
        if let field = nextAfterSpace(base, count) { return field }
        while i < count {
            // Skip separators (spaces, stray line ends); the 0x1d byte starts the translations.
            while i < count {
                let c = body[i]
                // Mostly the one space before a key: a key's first byte ends the loop in one test
                // (a switch over the separators compiled to a jump table, mispredicted per field).
                if c > 0x20 { break }
                if c == 0x1d {
                    translated = true
                } else if c != 0x20 && c != 0x0a && c != 0x0d {
                    break
                }
                i += 1
            }
            guard i < count else { return nil }
            let keyStart = i
            i = Self.firstEqualsSpaceOrSeparator(in: base, from: i, to: count)
            guard i < count, body[i] == UInt8(ascii: "=") else {
                continue  // a token without '=': not a field, skip it
            }
            let key = UnsafeRawBufferPointer(rebasing: body[keyStart..<i])
            i += 1
            if i < count, body[i] == UInt8(ascii: "\"") || body[i] == UInt8(ascii: "'") {
                let start = i + 1
                let end = Self.firstQuote(body[i], in: base, from: start, to: count)
                i = min(end + 1, count)
                let value = UnsafeRawBufferPointer(rebasing: body[start..<end])
                return Field(key: key, value: value, isQuoted: true, isTranslated: translated)
            }
            // A bare value ends at a space, or at the 0x1d byte that starts the translations.
            let start = i
            i = Self.firstSpaceOrSeparator(in: base, from: i, to: count)
            let value = UnsafeRawBufferPointer(rebasing: body[start..<i])
            return Field(key: key, value: value, isQuoted: false, isTranslated: translated)
        }
        return nil
    }

    /// The common field, `key=value` after one space, with a key of at most seven bytes: found
    /// from one word loaded after the space, the key's end and a short value's end looked for at
    /// once. Nil (nothing moved) for anything else, which ``next()`` then reads byte by byte.
    /// The general path waited, for every field, on a load of the space, of the word of the key,
    /// of the `=` it found, of the value's first byte, and of the word of the value, in turn.
    @inline(__always)
    private mutating func nextAfterSpace(_ base: UnsafeRawPointer, _ count: Int) -> Field? {
        // Ten bytes: the space, the word, and the value's first byte when the key fills the word.
        guard count &- i >= 10, base.load(fromByteOffset: i, as: UInt8.self) == 0x20 else { return nil }
        let keyStart = i &+ 1
        let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: keyStart, as: UInt64.self))
        // The key's first byte (a separator would be skipped) …
        guard word & 0xff > 0x20 else { return nil }
        // … the first '=' before any space or 0x1d (the lowest mark of each is exact) …
        let equals = Self.lowestMatch(word, UInt8(ascii: "=")).trailingZeroBitCount
        let end = (Self.lowestMatch(word, 0x20) | Self.lowestMatch(word, 0x1d)).trailingZeroBitCount
        guard equals < end else { return nil }
        let keyEnd = keyStart &+ equals / 8
        let key = UnsafeRawBufferPointer(start: base + keyStart, count: keyEnd &- keyStart)
        var valueStart = keyEnd &+ 1
        // … and the value: quoted, or bare up to the space or 0x1d found, or after the word.
        let first =
            equals < 56
            ? UInt8(truncatingIfNeeded: word >> UInt64(equals &+ 1))
            : base.load(fromByteOffset: valueStart, as: UInt8.self)
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            valueStart &+= 1
            let close = Self.firstQuote(first, in: base, from: valueStart, to: count)
            i = Swift.min(close &+ 1, count)
            let value = UnsafeRawBufferPointer(start: base + valueStart, count: close &- valueStart)
            return Field(key: key, value: value, isQuoted: true, isTranslated: translated)
        }
        i = end < 64 ? keyStart &+ end / 8 : Self.firstSpaceOrSeparator(in: base, from: keyStart &+ 8, to: count)
        let value = UnsafeRawBufferPointer(start: base + valueStart, count: i &- valueStart)
        return Field(key: key, value: value, isQuoted: false, isTranslated: translated)
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101

    /// Marks, in the high bit of each byte, the bytes of `word` equal to `byte`. A byte above a
    /// marked one may be marked wrongly (the borrow runs upward), so only the lowest mark is exact.
    @inline(__always)
    private static func lowestMatch(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let x = word ^ (ones &* UInt64(byte))
        return (x &- ones) & ~x & (ones &* 0x80)
    }

    /// The position of the first space or 0x1d byte in `base[from..<to]`, or `to`: eight bytes
    /// at a time for the first 32 (most values are short), then, for a long one (hex arguments
    /// run to thousands of bytes), memchr for the space and then for a 0x1d before it.
    @inline(__always)
    static func firstSpaceOrSeparator(in base: UnsafeRawPointer, from: Int, to count: Int) -> Int {
        var i = from
        while i + 8 <= count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let found = lowestMatch(word, 0x20) | lowestMatch(word, 0x1d)
            if found != 0 { return i + found.trailingZeroBitCount / 8 }
            i += 8
            if i - from >= 32 {
                let space = find(0x20, in: base, from: i, to: count)
                return find(0x1d, in: base, from: i, to: space)
            }
        }
        while i < count {
            let c = base.load(fromByteOffset: i, as: UInt8.self)
            if c == 0x20 || c == 0x1d { break }
            i += 1
        }
        return i
    }

    /// The position of the first space in `base[from..<to]`, or `to`: eight bytes at a time, for
    /// short words such as a record's type name (every record has one).
    @inline(__always)
    static func firstSpace(in base: UnsafeRawPointer, from: Int, to count: Int) -> Int {
        var i = from
        while i + 8 <= count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let found = lowestMatch(word, 0x20)
            if found != 0 { return i + found.trailingZeroBitCount / 8 }
            i += 8
        }
        while i < count, base.load(fromByteOffset: i, as: UInt8.self) != 0x20 { i += 1 }
        return i
    }

    /// The position of the first `quote` in `base[from..<to]`, or `to`: eight bytes at a time for
    /// the first 32 (most quoted values are short: comm, exe, a path), then memchr (a call cost
    /// more than the search of such a value).
    @inline(__always)
    static func firstQuote(_ quote: UInt8, in base: UnsafeRawPointer, from: Int, to count: Int) -> Int {
        var i = from
        while i + 8 <= count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let found = lowestMatch(word, quote)
            if found != 0 { return i + found.trailingZeroBitCount / 8 }
            i += 8
            if i - from >= 32 { return find(quote, in: base, from: i, to: count) }
        }
        while i < count, base.load(fromByteOffset: i, as: UInt8.self) != quote { i += 1 }
        return i
    }

    /// The position of the first `=`, space or 0x1d byte in `base[from..<to]`, or `to`: the end
    /// of a key, found eight bytes at a time (a key is a few bytes).
    @inline(__always)
    private static func firstEqualsSpaceOrSeparator(in base: UnsafeRawPointer, from: Int, to count: Int) -> Int {
        var i = from
        while i + 8 <= count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let found = lowestMatch(word, UInt8(ascii: "=")) | lowestMatch(word, 0x20) | lowestMatch(word, 0x1d)
            if found != 0 { return i + found.trailingZeroBitCount / 8 }
            i += 8
        }
        while i < count {
            let c = base.load(fromByteOffset: i, as: UInt8.self)
            if c == UInt8(ascii: "=") || c == 0x20 || c == 0x1d { break }
            i += 1
        }
        return i
    }

    /// The position of the first `byte` in `base[from..<to]`, or `to`.
    @inline(__always)
    private static func find(_ byte: UInt8, in base: UnsafeRawPointer, from: Int, to: Int) -> Int {
        guard from < to, let found = memchr(base + from, Int32(byte), to - from) else { return to }
        return base.distance(to: UnsafeRawPointer(found))
    }
}

extension AuditFieldScanner.Field {
    /// Whether the value stands for "no value" (`(null)`, `(none)`, `?`).
    var isAbsent: Bool {
        !isQuoted && (bytesEqual(value, "(null)") || bytesEqual(value, "(none)") || bytesEqual(value, "?"))
    }

    /// The bytes of a field the kernel may hex-encode (paths, comm, arguments): quoted values are
    /// literal, bare values are hex. Returns nil for absent values; a bare value that is not valid
    /// hex is returned as it stands.
    func untrustedBytes() -> [UInt8]? {
        if isQuoted { return Array(value) }
        if isAbsent { return nil }
        return decodeHex(value) ?? Array(value)
    }

    /// ``untrustedBytes()`` as text (invalid UTF-8 becomes U+FFFD).
    func untrustedText() -> String? {
        if isQuoted { return String(decoding: value, as: UTF8.self) }
        guard let bytes = untrustedBytes() else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The value as plain text, quotes removed; nil for absent values.
    func text() -> String? {
        isAbsent ? nil : String(decoding: value, as: UTF8.self)
    }

    func signedNumber() -> Int64? { parseSignedDecimal(value) }
}

/// Decodes an even-length run of hex digits; nil when the text is not that.
func decodeHex(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
    guard text.count % 2 == 0 else { return nil }
    if text.isEmpty { return [] }
    var valid = true
    let out = [UInt8](unsafeUninitializedCapacity: text.count / 2) { buffer, initialized in
        valid = decodeHex(text, into: UnsafeMutableRawPointer(buffer.baseAddress!))
        initialized = valid ? text.count / 2 : 0
    }
    return valid ? out : nil
}

/// Appends decoded hex to a buffer; false (and nothing appended) when the text is not even-length hex.
/// Decoded straight into the buffer's new capacity (no zero fill, no copy from a block on the
/// side); the buffer grows by doubling, so an argument whose length was not announced grows as
/// an array would.
func appendDecodedHex(_ text: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Bool {
    guard text.count % 2 == 0 else { return false }
    if text.isEmpty { return true }
    let count = text.count / 2
    if out.capacity - out.count < count {
        out.reserveCapacity(Swift.max(out.count + count, 2 * out.capacity))
    }
    var valid = false
    out.append(addingCapacity: count) { span in
        span.withUnsafeMutableBufferPointer { buffer, initialized in
            valid = decodeHex(text, into: UnsafeMutableRawPointer(buffer.baseAddress! + initialized))
            if valid { initialized += count }
        }
    }
    return valid
}

/// Decodes `text` (even length) into `text.count / 2` bytes at `out`; false when a byte is not
/// a hex digit (`out` then holds garbage). Thirty-two digits at a time (``decodeHexDigits(_:)``),
/// then eight at a time in a word, then two by two.
private func decodeHex(_ text: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) -> Bool {
    let count = text.count
    guard let input = text.baseAddress else { return true }
    var i = 0
    var valid = SIMDMask<SIMD16<Int8>>(repeating: true)
    while i + 32 <= count {
        let first = decodeHexDigits(input.loadUnaligned(fromByteOffset: i, as: SIMD16<Int8>.self))
        let second = decodeHexDigits(input.loadUnaligned(fromByteOffset: i + 16, as: SIMD16<Int8>.self))
        valid .&= first.valid .& second.valid
        let bytes = SIMD16<UInt8>(lowHalf: first.bytes, highHalf: second.bytes)
        out.storeBytes(of: bytes, toByteOffset: i / 2, as: SIMD16<UInt8>.self)
        i += 32
    }
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    var bad: UInt64 = 0
    while i + 8 <= count {
        let x = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        // For bytes below 0x80, (x | 0x80) - k has its high bit set exactly when the byte is >= k.
        let guarded = x | highs
        let digit = (guarded &- ones &* 0x30) & ~(guarded &- ones &* 0x3a) & highs
        let lower = (x | ones &* 0x20) | highs
        let letter = (lower &- ones &* 0x61) & ~(lower &- ones &* 0x67) & highs
        bad |= (x & highs) | ((digit | letter) ^ highs)
        let nibbles = (x & (ones &* 0x0f)) &+ (letter >> 7) &* 9
        let high = nibbles & 0x00ff_00ff_00ff_00ff
        let low = (nibbles >> 8) & 0x00ff_00ff_00ff_00ff
        var packed = (high << 4) | low
        packed = (packed | (packed >> 8)) & 0x0000_ffff_0000_ffff
        packed = (packed | (packed >> 16)) & 0xffff_ffff
        out.storeBytes(of: UInt32(truncatingIfNeeded: packed).littleEndian, toByteOffset: i / 2, as: UInt32.self)
        i += 8
    }
    var badDigit: UInt8 = 0
    while i < count {
        let hi = hexDigitTable[Int(input.load(fromByteOffset: i, as: UInt8.self))]
        let lo = hexDigitTable[Int(input.load(fromByteOffset: i + 1, as: UInt8.self))]
        badDigit |= hi | lo
        out.storeBytes(of: hi << 4 | (lo & 0x0f), toByteOffset: i / 2, as: UInt8.self)
        i += 2
    }
    return all(valid) && bad == 0 && badDigit & 0xf0 == 0
}

/// Decodes pairs of hex digits from `text` (`count` bytes) into `out` up to the first byte that
/// is not part of such a pair; returns its position. Thirty-two digits at a time while they all
/// are digits (``decodeHexDigits(_:)``), then pair by pair. Here, beside that function: from
/// another file, its narrowing of the decoded bytes was left as a call per sixteen digits.
func decodeHexDigitPairs(_ text: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<UInt8>) -> Int {
    var i = 0
    var decoded = UnsafeMutableRawPointer(out)
    while i + 32 <= count {
        let first = decodeHexDigits(text.loadUnaligned(fromByteOffset: i, as: SIMD16<Int8>.self))
        let second = decodeHexDigits(text.loadUnaligned(fromByteOffset: i + 16, as: SIMD16<Int8>.self))
        // Stored before the check (the room is there): the block that holds the value's end is
        // decoded again pair by pair below.
        decoded.storeBytes(of: SIMD16<UInt8>(lowHalf: first.bytes, highHalf: second.bytes), as: SIMD16<UInt8>.self)
        // As two words: all() is a reduction the compiler left as a call.
        let valid = unsafeBitCast(first.valid .& second.valid, to: SIMD2<UInt64>.self)
        guard valid[0] & valid[1] == ~0 else { break }
        decoded += 16
        i += 32
    }
    while i + 2 <= count,
        let high = hexValue(text.load(fromByteOffset: i, as: UInt8.self)),
        let low = hexValue(text.load(fromByteOffset: i + 1, as: UInt8.self))
    {
        decoded.storeBytes(of: high << 4 | low, as: UInt8.self)
        decoded += 1
        i += 2
    }
    return i
}

/// Sixteen hex digits as eight bytes, and which of the sixteen are digits (`0`–`9`, `A`–`F`,
/// `a`–`f`). Compared as signed bytes, so a byte of 0x80 or more is below every digit.
///
/// A digit's value is its low four bits, plus 9 for a letter; the kernel's upper-case digits and
/// lower-case ones cost the same (one `or` folds the case before the letter test), so there is
/// no separate path for either. Vector against vector everywhere: Swift's operators taking a
/// scalar are not lowered to single instructions.
@inline(__always)
private func decodeHexDigits(_ x: SIMD16<Int8>) -> (bytes: SIMD8<UInt8>, valid: SIMDMask<SIMD16<Int8>>) {
    typealias Digits = SIMD16<Int8>
    let digit = (x .> Digits(repeating: 0x2F)) .& (x .< Digits(repeating: 0x3A))
    let folded = x | Digits(repeating: 0x20)
    let letter = (folded .> Digits(repeating: 0x60)) .& (folded .< Digits(repeating: 0x67))
    let values = (x & Digits(repeating: 0x0F)) &+ (unsafeBitCast(letter, to: Digits.self) & Digits(repeating: 9))
    // Each pair of digits, read as one little-endian 16-bit lane, has the high digit's value in
    // its low byte and the low digit's in its high byte.
    let pairs = unsafeBitCast(values, to: SIMD8<UInt16>.self)
    let bytes = (pairs &<< SIMD8<UInt16>(repeating: 4)) | (pairs &>> SIMD8<UInt16>(repeating: 8))
    return (SIMD8<UInt8>(truncatingIfNeeded: bytes), digit .| letter)
}

/// Hex digit values by byte; 0xff for bytes that are not hex digits.
private let hexDigitTable: [UInt8] = (0...255).map { hexValue(UInt8($0)) ?? 0xff }
