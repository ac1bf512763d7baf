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

    mutating func next() -> Field? {
        guard let base = body.baseAddress else { return nil }
        let count = body.count
        while i < count {
            // Skip separators (spaces, stray line ends); the 0x1d byte starts the translations.
            while i < count {
                let c = body[i]
                if c == 0x1d {
                    translated = true
                } else if c != 0x20 && c != 0x0a && c != 0x0d {
                    break
                }
                i += 1
            }
            guard i < count else { return nil }
            let keyStart = i
            while i < count {
                let c = body[i]
                if c == UInt8(ascii: "=") || c == 0x20 || c == 0x1d { break }
                i += 1
            }
            guard i < count, body[i] == UInt8(ascii: "=") else {
                continue  // a token without '=': not a field, skip it
            }
            let key = UnsafeRawBufferPointer(rebasing: body[keyStart..<i])
            i += 1
            if i < count, body[i] == UInt8(ascii: "\"") || body[i] == UInt8(ascii: "'") {
                let start = i + 1
                let end = Self.find(body[i], in: base, from: start, to: count)
                i = min(end + 1, count)
                let value = UnsafeRawBufferPointer(rebasing: body[start..<end])
                return Field(key: key, value: value, isQuoted: true, isTranslated: translated)
            }
            // A bare value ends at a space, or at the 0x1d byte that starts the translations.
            let start = i
            while i < count {
                let c = body[i]
                if c == 0x20 || c == 0x1d { break }
                i += 1
            }
            let value = UnsafeRawBufferPointer(rebasing: body[start..<i])
            return Field(key: key, value: value, isQuoted: false, isTranslated: translated)
        }
        return nil
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
    var out: [UInt8] = []
    guard appendDecodedHex(text, to: &out) else { return nil }
    return out
}

/// Appends decoded hex to a buffer; false (and nothing appended) when the text is not even-length hex.
func appendDecodedHex(_ text: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Bool {
    guard text.count % 2 == 0 else { return false }
    let pairs = text.count / 2
    let before = out.count
    var valid = true
    out.append(contentsOf: repeatElement(0, count: pairs))
    hexDigitTable.withUnsafeBufferPointer { table in
        out.withUnsafeMutableBufferPointer { dst in
            var bad: UInt8 = 0
            for k in 0..<pairs {
                let hi = table[Int(text[2 * k])]
                let lo = table[Int(text[2 * k + 1])]
                bad |= hi | lo
                dst[before + k] = hi << 4 | (lo & 0x0f)
            }
            valid = bad & 0xf0 == 0
        }
    }
    if !valid { out.removeLast(pairs) }
    return valid
}

/// Hex digit values by byte; 0xff for bytes that are not hex digits.
private let hexDigitTable: [UInt8] = (0...255).map { hexValue(UInt8($0)) ?? 0xff }
