import ExecEvents

#if canImport(Glibc)
import Glibc
#endif

/// The audit record types this project reads, by their kernel numbers (`linux/audit.h`).
///
/// Log lines name the type (`type=EXECVE`), netlink messages carry the number; both map to this.
public struct AuditRecordType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let syscall = AuditRecordType(rawValue: 1300)
    public static let path = AuditRecordType(rawValue: 1302)
    public static let cwd = AuditRecordType(rawValue: 1307)
    public static let execve = AuditRecordType(rawValue: 1309)
    public static let eoe = AuditRecordType(rawValue: 1320)
    public static let bprmFcaps = AuditRecordType(rawValue: 1321)
    public static let proctitle = AuditRecordType(rawValue: 1327)
    /// A type this table has no name for.
    public static let unknown = AuditRecordType(rawValue: 0)

    /// Whether records of this type can belong to a program execution and must be kept until the
    /// event they belong to is complete.
    @inline(__always)
    var isPartOfExec: Bool {
        switch rawValue {
        case 1300, 1302, 1307, 1309, 1320, 1321, 1327: return true
        default: return false
        }
    }

    /// Maps a type name as auditd writes it (`SYSCALL`, `UNKNOWN[1309]`) to its number.
    /// Names of types that can't be part of an exec event map to `.unknown` unless numbered.
    static func named(_ name: UnsafeRawBufferPointer) -> AuditRecordType {
        switch name.count {
        case 3 where bytesEqual(name, "EOE"): return .eoe
        case 3 where bytesEqual(name, "CWD"): return .cwd
        case 4 where bytesEqual(name, "PATH"): return .path
        case 6 where bytesEqual(name, "EXECVE"): return .execve
        case 7 where bytesEqual(name, "SYSCALL"): return .syscall
        case 9 where bytesEqual(name, "PROCTITLE"): return .proctitle
        case 10 where bytesEqual(name, "BPRM_FCAPS"): return .bprmFcaps
        default:
            // `UNKNOWN[1309]`: auditd could not name the number.
            if name.count > 9, bytesEqual(UnsafeRawBufferPointer(rebasing: name[0..<8]), "UNKNOWN["),
                name[name.count - 1] == UInt8(ascii: "]"),
                let number = parseDecimal(UnsafeRawBufferPointer(rebasing: name[8..<(name.count - 1)])),
                number <= UInt64(UInt16.max)
            {
                return AuditRecordType(rawValue: UInt16(number))
            }
            return .unknown
        }
    }
}

/// Compared byte by byte in line: field names are a few bytes, and a memcmp call for each name
/// tried on each field of a SYSCALL record cost more than the comparisons.
@inline(__always)
func bytesEqual(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
    guard bytes.count == text.utf8CodeUnitCount else { return false }
    return text.withUTF8Buffer { expected in
        for k in 0..<expected.count where bytes[k] != expected[k] { return false }
        return true
    }
}

/// Parses an unsigned decimal number that fills the whole buffer; nil when empty, not all digits
/// or too large.
@inline(__always)
func parseDecimal(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
    guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
    var value: UInt64 = 0
    for c in bytes {
        guard c >= 0x30, c <= 0x39 else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (s, o2) = m.addingReportingOverflow(UInt64(c - 0x30))
        if o1 || o2 { return nil }
        value = s
    }
    return value
}

/// Parses a signed decimal number (`-2`, `1000`) that fills the whole buffer.
@inline(__always)
func parseSignedDecimal(_ bytes: UnsafeRawBufferPointer) -> Int64? {
    guard let first = bytes.first else { return nil }
    if first == UInt8(ascii: "-") {
        guard let magnitude = parseDecimal(UnsafeRawBufferPointer(rebasing: bytes.dropFirst())),
            magnitude <= UInt64(Int64.max)
        else { return nil }
        return -Int64(magnitude)
    }
    guard let value = parseDecimal(bytes), value <= UInt64(Int64.max) else { return nil }
    return Int64(value)
}

/// Parses a hexadecimal number (`c000003e`) that fills the whole buffer.
@inline(__always)
func parseHexNumber(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
    guard !bytes.isEmpty, bytes.count <= 16 else { return nil }
    var value: UInt64 = 0
    for c in bytes {
        guard let d = hexValue(c) else { return nil }
        value = value << 4 | UInt64(d)
    }
    return value
}

@inline(__always)
func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x41 + 10
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
}
