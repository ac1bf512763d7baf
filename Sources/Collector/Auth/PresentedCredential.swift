/// What a request's `Authorization` header offers.
public enum PresentedCredential: Sendable, Equatable {
    /// No `Authorization` header.
    case none
    /// `Bearer <token>`.
    case bearer(token: String)
    /// `Basic base64(user:password)`: browsers send it after the native prompt; the password is a
    /// token, the user name is ignored.
    case basic(user: String, password: String)
    /// `Bearer` or `Basic` with nothing usable after it.
    case malformed(scheme: String)
    /// Another scheme (`Digest`, `Negotiate`, …).
    case otherScheme(String)

    /// Reads an `Authorization` header value; schemes are case-insensitive (RFC 9110).
    public init(authorizationHeader value: String?) {
        guard let value else {
            self = .none
            return
        }
        let trimmed = value.drop { $0 == " " }
        let scheme = trimmed.prefix { $0 != " " }
        var parameter = trimmed.dropFirst(scheme.count)
        while parameter.first == " " { parameter.removeFirst() }
        while parameter.last == " " { parameter.removeLast() }
        switch scheme.lowercased() {
        case "bearer":
            self =
                parameter.isEmpty || parameter.contains(Character(" "))
                ? .malformed(scheme: "Bearer") : .bearer(token: String(parameter))
        case "basic":
            guard let decoded = Base64.decode(String(parameter)),
                let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
            else {
                self = .malformed(scheme: "Basic")
                return
            }
            self = .basic(
                user: String(decoding: decoded[..<colon], as: UTF8.self),
                password: String(decoding: decoded[(colon + 1)...], as: UTF8.self)
            )
        default:
            self = .otherScheme(String(scheme))
        }
    }
}

/// Standard Base64 (RFC 4648, `+/`, padding optional), decoding only.
enum Base64 {
    /// The bytes, or nil when the text is not Base64.
    static func decode(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for character in text.utf8 {
            let value: UInt32
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(character - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(character - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(character - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            default: return nil
            }
            guard padding == 0 else { return nil }  // data after padding
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // 6 leftover bits can never be: a single Base64 digit does not make a byte.
        guard bits < 6, padding <= 2 else { return nil }
        return bytes
    }
}
