/// Counts audit serial numbers that never arrived on a link: each event the kernel records takes
/// the next serial, so a serial more than one above the highest seen means events were lost.
///
/// Events complete in the kernel out of serial order (a long execve finishes after a short
/// syscall that started later), so a serial skipped a moment ago may still arrive: recently
/// skipped serials are remembered, and one that arrives late takes its gap back. A serial below
/// the highest that was never skipped (a duplicate) is ignored; one far below it (the kernel's
/// 32-bit serial wrapped) starts counting afresh.
struct AuditSerialTracker {
    private(set) var highest: UInt64?
    private var skipped: Set<UInt64> = []
    /// Gaps up to this size are remembered serial by serial (larger ones are only counted).
    private let rememberedGap: UInt64 = 256
    /// Skipped serials further than this below the highest are taken as lost for good.
    private let lateWindow: UInt64 = 4096
    /// A serial this far below the highest is a new count, not a late one.
    private let resetDistance: UInt64 = 1 << 24

    /// Takes one record's serial; returns by how much the gap count changes (negative when a late
    /// serial fills a gap counted before).
    mutating func observe(_ serial: UInt64) -> Int {
        guard let last = highest else {
            highest = serial
            return 0
        }
        if serial > last {
            highest = serial
            let gap = serial - last - 1
            if gap > 0 && gap <= rememberedGap {
                for missing in (last + 1)..<serial { skipped.insert(missing) }
            }
            if skipped.count > 2 * Int(rememberedGap), serial > lateWindow {
                skipped = skipped.filter { $0 >= serial - lateWindow }
            }
            // Serials are 32-bit in the kernel, but a payload can carry any 64-bit number.
            return Int(clamping: gap)
        }
        if last - serial > resetDistance {
            highest = serial
            skipped.removeAll()
            return 0
        }
        return skipped.remove(serial) == nil ? 0 : -1
    }

    /// The serial in a record payload `audit(SECONDS.MILLIS:SERIAL): …`; nil when absent.
    static func serial(ofPayload payload: UnsafeRawBufferPointer) -> UInt64? {
        var index = 0
        let limit = min(payload.count, 64)
        while index < limit, payload[index] != UInt8(ascii: ":") { index += 1 }
        index += 1
        var serial: UInt64 = 0
        var digits = 0
        while index < limit, payload[index] >= UInt8(ascii: "0"), payload[index] <= UInt8(ascii: "9") {
            serial = serial &* 10 &+ UInt64(payload[index] - UInt8(ascii: "0"))
            digits += 1
            index += 1
        }
        guard digits > 0, index < limit, payload[index] == UInt8(ascii: ")") else { return nil }
        return serial
    }
}
