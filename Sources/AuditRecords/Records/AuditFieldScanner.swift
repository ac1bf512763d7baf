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
    private var translated = false

    init(_ body: UnsafeRawBufferPointer) {
        self.body = body
    }

    mutating func next() -> Field? {
        while i < body.count {
            // Skip separators; the 0x1d byte switches to the translated part.
            while i < body.count, body[i] == 0x20 || body[i] == 0x1d || body[i] == 0x0a || body[i] == 0x0d {
                if body[i] == 0x1d { translated = true }
                i += 1
            }
            guard i < body.count else { return nil }
            let keyStart = i
            while i < body.count, body[i] != UInt8(ascii: "="), body[i] != 0x20, body[i] != 0x1d { i += 1 }
            guard i < body.count, body[i] == UInt8(ascii: "=") else {
                continue  // a token without '=': not a field, skip it
            }
            let key = UnsafeRawBufferPointer(rebasing: body[keyStart..<i])
            i += 1
            var isQuoted = false
            let value: UnsafeRawBufferPointer
            if i < body.count, body[i] == UInt8(ascii: "\"") || body[i] == UInt8(ascii: "'") {
                let quote = body[i]
                let start = i + 1
                var end = start
                while end < body.count, body[end] != quote { end += 1 }
                value = UnsafeRawBufferPointer(rebasing: body[start..<end])
                isQuoted = true
                i = min(end + 1, body.count)
            } else {
                let start = i
                while i < body.count, body[i] != 0x20, body[i] != 0x1d { i += 1 }
                value = UnsafeRawBufferPointer(rebasing: body[start..<i])
            }
            return Field(key: key, value: value, isQuoted: isQuoted, isTranslated: translated)
        }
        return nil
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
    var out = [UInt8](repeating: 0, count: text.count / 2)
    var ok = true
    out.withUnsafeMutableBufferPointer { dst in
        var j = 0
        var i = 0
        while i < text.count {
            guard let hi = hexValue(text[i]), let lo = hexValue(text[i + 1]) else {
                ok = false
                return
            }
            dst[j] = hi << 4 | lo
            j += 1
            i += 2
        }
    }
    return ok ? out : nil
}

/// Appends decoded hex to a buffer; false (and nothing appended) when the text is not even-length hex.
func appendDecodedHex(_ text: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Bool {
    guard text.count % 2 == 0 else { return false }
    for i in stride(from: 0, to: text.count, by: 2) {
        guard hexValue(text[i]) != nil, hexValue(text[i + 1]) != nil else { return false }
    }
    out.reserveCapacity(out.count + text.count / 2)
    for i in stride(from: 0, to: text.count, by: 2) {
        out.append(hexValue(text[i])! << 4 | hexValue(text[i + 1])!)
    }
    return true
}
