/// Decodes the bare hex value that starts at `start` in a record body and appends its bytes to
/// `out`, finding the value's end as it decodes: one pass over a long EXECVE argument instead of
/// a search for its end (``AuditFieldScanner/next()``) and then the decoding.
///
/// Returns where the value ends (the space after it, or the end of the body) when it is an
/// even-length run of hex digits that a space or the end of the body ends; else nil, with
/// nothing appended (odd length, another byte, or the 0x1d byte before translated fields:
/// ``AuditFieldScanner`` then reads the value as usual).
func appendHexValue(in body: UnsafeRawBufferPointer, from start: Int, to out: inout [UInt8]) -> Int? {
    let count = body.count
    guard let base = body.baseAddress, start <= count else { return nil }
    // The value is at most the rest of the body.
    let room = (count - start) / 2
    guard room > 0 else {
        // No pair of digits fits: only an empty value is read (the buffer may have no storage).
        return start == count || base.load(fromByteOffset: start, as: UInt8.self) == 0x20 ? start : nil
    }
    if out.capacity - out.count < room {
        out.reserveCapacity(Swift.max(out.count + room, 2 * out.capacity))
    }
    var end: Int?
    out.append(addingCapacity: room) { span in
        span.withUnsafeMutableBufferPointer { buffer, initialized in
            let i = decodeHexDigitPairs(base + start, count: count - start, into: buffer.baseAddress! + initialized)
            guard start + i == count || base.load(fromByteOffset: start + i, as: UInt8.self) == 0x20 else { return }
            initialized += i / 2
            end = start + i
        }
    }
    return end
}
