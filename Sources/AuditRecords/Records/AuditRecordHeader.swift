import ExecEvents

#if canImport(Glibc)
import Glibc
#endif

/// What every audit record starts with: which node wrote it, its type, and the event it belongs to
/// (`msg=audit(SECONDS.MILLIS:SERIAL):`). The fields follow in ``body``.
struct AuditRecordHeader {
    /// `node=NAME` prefix, when the line has one (empty otherwise).
    var node: UnsafeRawBufferPointer
    var type: AuditRecordType
    /// `SECONDS.MILLIS`, within ``ExecEvents/EventTime/acceptedMilliseconds`` (years 1970–9999).
    var time: EventTime
    var serial: UInt64
    /// The `key=value` fields, up to the end of the record.
    var body: UnsafeRawBufferPointer
}

/// Why a record could not be read, for the diagnostic that names its line.
enum AuditRecordError: Error, Equatable {
    case missingType
    case missingTimestamp
    case malformedTimestamp
    case timestampOutOfRange

    var reason: String {
        switch self {
        case .missingType: "expected 'type=NAME' at the start of the record"
        case .missingTimestamp: "expected 'msg=audit(SECONDS.MILLIS:SERIAL):'"
        case .malformedTimestamp: "malformed timestamp in 'msg=audit(SECONDS.MILLIS:SERIAL):'"
        case .timestampOutOfRange:
            "timestamp in 'msg=audit(SECONDS.MILLIS:SERIAL):' is not \(EventTime.acceptedRangeDescription)"
        }
    }
}

extension AuditRecordHeader {
    /// Reads a record as auditd writes it to its log and to plugins:
    /// `[node=NAME ]type=NAME msg=audit(S.MS:SERIAL): fields…`.
    static func parse(line: UnsafeRawBufferPointer) throws(AuditRecordError) -> AuditRecordHeader {
        var cursor = 0
        var node = UnsafeRawBufferPointer(start: line.baseAddress, count: 0)
        if hasPrefix(line, at: 0, "node=") {
            let start = 5
            var end = start
            while end < line.count, line[end] != 0x20 { end += 1 }
            node = UnsafeRawBufferPointer(rebasing: line[start..<end])
            cursor = end
            while cursor < line.count, line[cursor] == 0x20 { cursor += 1 }
        }
        guard hasPrefix(line, at: cursor, "type=") else { throw .missingType }
        let typeStart = cursor + 5
        let typeEnd =
            line.baseAddress.map { AuditFieldScanner.firstSpace(in: $0, from: typeStart, to: line.count) } ?? typeStart
        guard typeEnd > typeStart else { throw .missingType }
        let type = AuditRecordType.named(UnsafeRawBufferPointer(rebasing: line[typeStart..<typeEnd]))
        cursor = typeEnd
        while cursor < line.count, line[cursor] == 0x20 { cursor += 1 }
        guard hasPrefix(line, at: cursor, "msg=") else { throw .missingTimestamp }
        var header = try parse(
            payload: UnsafeRawBufferPointer(rebasing: line[(cursor + 4)...]),
            type: type
        )
        header.node = node
        return header
    }

    /// Reads a record as the kernel delivers it over netlink: the type is the message type and
    /// the payload is `audit(S.MS:SERIAL): fields…`.
    static func parse(
        payload: UnsafeRawBufferPointer,
        type: AuditRecordType
    ) throws(AuditRecordError)
        -> AuditRecordHeader
    {
        guard hasPrefix(payload, at: 0, "audit("), let base = payload.baseAddress else { throw .missingTimestamp }
        let end = payload.count
        var i = 6
        guard let seconds = readDecimalDigits(base, &i, end, eightAtOnce: true), i < end,
            base.load(fromByteOffset: i, as: UInt8.self) == 0x2e
        else { throw .malformedTimestamp }  // "."
        i += 1
        guard let fraction = readDecimalDigits(base, &i, end), i < end,
            base.load(fromByteOffset: i, as: UInt8.self) == 0x3a
        else { throw .malformedTimestamp }  // ":"
        i += 1
        guard let serial = readDecimalDigits(base, &i, end), i < end,
            base.load(fromByteOffset: i, as: UInt8.self) == 0x29
        else { throw .malformedTimestamp }  // ")"
        i += 1
        // The kernel writes `): `; some user-space records omit the colon (`) config changed`).
        if i < payload.count, payload[i] == UInt8(ascii: ":") { i += 1 }
        // The kernel writes exactly 3 fraction digits; scale anything else to milliseconds.
        var millis = fraction.value
        if fraction.digits < 3 {
            for _ in fraction.digits..<3 { millis *= 10 }
        } else if fraction.digits > 3 {
            for _ in 3..<fraction.digits { millis /= 10 }
        }
        // Up to 19 digits of seconds fit a UInt64 but not an Int64 nor, in milliseconds, any time.
        guard seconds.value <= UInt64(Int64.max),
            let time = EventTime(acceptedSeconds: Int64(seconds.value), milliseconds: Int64(millis))
        else { throw .timestampOutOfRange }
        return AuditRecordHeader(
            node: UnsafeRawBufferPointer(start: payload.baseAddress, count: 0),
            type: type,
            time: time,
            serial: serial.value,
            body: UnsafeRawBufferPointer(rebasing: payload[i...])
        )
    }
}

/// Up to 19 decimal digits at `base[i..<end]` (a UInt64 holds them all), `i` moved past them;
/// nil when there is none. Read through the pointer, as every record's header is: a nested
/// function capturing the index cost more than the digits. With `eightAtOnce` (for the seconds,
/// ten digits in every record), eight leading digits are read at once, the rest one by one.
@inline(__always)
func readDecimalDigits(
    _ base: UnsafeRawPointer,
    _ i: inout Int,
    _ end: Int,
    eightAtOnce: Bool = false
) -> (value: UInt64, digits: Int)? {
    let start = i
    let last = min(end, start + 19)
    var value: UInt64 = 0
    if eightAtOnce, last - i >= 8, let eight = eightDigits(base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
        value = eight
        i += 8
    }
    while i < last {
        let digit = base.load(fromByteOffset: i, as: UInt8.self) &- 0x30
        if digit > 9 { break }
        value = value &* 10 &+ UInt64(digit)
        i += 1
    }
    return i > start ? (value, i - start) : nil
}

/// The value of eight ASCII digits (the first in the lowest byte), nil when a byte is not one.
/// The digits are paired, the pairs paired, and the quads joined, by three multiplications.
@inline(__always)
private func eightDigits(_ bytes: UInt64) -> UInt64? {
    let word = UInt64(littleEndian: bytes)
    // Each byte 0x30...0x39: its high nibble is 3, and adding 6 leaves it 3.
    let highNibbles: UInt64 = 0xF0F0_F0F0_F0F0_F0F0
    let threes: UInt64 = 0x3030_3030_3030_3030
    guard word & highNibbles == threes, (word &+ 0x0606_0606_0606_0606) & highNibbles == threes else { return nil }
    var x = word &- threes
    // Pairs: the first digit of each (the lower byte) times 10 plus the second.
    x = (x &* 10 &+ (x >> 8)) & 0x00FF_00FF_00FF_00FF
    // Quads: the first pair times 100 plus the second.
    x = (x &* 100 &+ (x >> 16)) & 0x0000_FFFF_0000_FFFF
    // The first quad times 10000 plus the second.
    return (x &* 10000 &+ (x >> 32)) & 0xFFFF_FFFF
}

/// Compared byte by byte in line, as ``bytesEqual(_:_:)`` is: the prefixes are a few bytes, and
/// a memcmp call for each of the three on every record cost more than the comparison.
@inline(__always)
func hasPrefix(_ bytes: UnsafeRawBufferPointer, at offset: Int, _ prefix: StaticString) -> Bool {
    let n = prefix.utf8CodeUnitCount
    guard offset + n <= bytes.count else { return false }
    return prefix.withUTF8Buffer { expected in
        for k in 0..<n where bytes[offset + k] != expected[k] { return false }
        return true
    }
}
