import ExecEvents

/// The identity of an incident: a 128-bit FNV-1a hash of the rule id, the host and the group values.
///
/// It depends only on those bytes (not on Swift's per-process seeded `Hasher`), so the same group
/// gets the same id across restarts, processes and hosts. Written as 32 lowercase hex digits.
public struct IncidentID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses 32 hex digits (as written by ``description``).
    public init?(hex: String) {
        let bytes = Array(hex.utf8)
        guard bytes.count == 32 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (k, c) in bytes.enumerated() {
            let v: UInt64
            switch c {
            case 0x30...0x39: v = UInt64(c - 0x30)
            case 0x61...0x66: v = UInt64(c - 0x61 + 10)
            case 0x41...0x46: v = UInt64(c - 0x41 + 10)
            default: return nil
            }
            if k < 16 { high = high << 4 | v } else { low = low << 4 | v }
        }
        self.init(high: high, low: low)
    }

    public var description: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 32)
        for k in 0..<16 {
            out[15 - k] = digits[Int((high >> (UInt64(k) * 4)) & 0xF)]
            out[31 - k] = digits[Int((low >> (UInt64(k) * 4)) & 0xF)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func < (a: IncidentID, b: IncidentID) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }
}

/// FNV-1a with a 128-bit state (offset basis 0x6c62272e07bb014262b821756295c58d,
/// prime 2^88 + 2^8 + 0x3b), computed with two 64-bit halves.
struct FNV1a128 {
    private(set) var high: UInt64 = 0x6c62_272e_07bb_0142
    private(set) var low: UInt64 = 0x62b8_2175_6295_c58d

    mutating func combine(_ byte: UInt8) {
        low ^= UInt64(byte)
        // (high·2^64 + low) · (2^88 + 0x13b) mod 2^128
        let (productHigh, productLow) = low.multipliedFullWidth(by: 0x13b)
        let newHigh = productHigh &+ high &* 0x13b &+ (low << 24)
        high = newHigh
        low = productLow
    }

    mutating func combine(_ text: String) {
        for byte in text.utf8 { combine(byte) }
    }

    var value: IncidentID { IncidentID(high: high, low: low) }
}

extension IncidentID {
    /// The id of the incident of one group of one rule: FNV-1a 128 over a version tag, the rule id,
    /// the host and each other group attribute as `name=value` (a missing value hashes differently
    /// from an empty one), NUL-separated. Integer values hash as their decimal text.
    public init(ruleId: String, hostName: String, groupValues: [(name: String, value: AttributeValue?)]) {
        var hash = FNV1a128()
        hash.combine("execwatch.incident.v1")
        hash.combine(0)
        hash.combine(ruleId)
        hash.combine(0)
        hash.combine(hostName)
        hash.combine(0)
        for (name, value) in groupValues {
            hash.combine(name)
            hash.combine(UInt8(ascii: "="))
            if let value {
                hash.combine(2)
                hash.combine(value.description)
            } else {
                hash.combine(1)
            }
            hash.combine(0)
        }
        self = hash.value
    }
}
