/// The proc connector's wire format, by byte offset (host byte order), as `<linux/netlink.h>`,
/// `<linux/connector.h>` and `<linux/cn_proc.h>` lay it out:
///
/// ```
/// struct nlmsghdr   16 bytes: len u32 @0, type u16 @4, flags u16 @6, seq u32 @8, pid u32 @12
/// struct cn_msg     20 bytes: idx u32 @0, val u32 @4, seq u32 @8, ack u32 @12, len u16 @16, flags u16 @18
/// struct proc_event         : what u32 @0, cpu u32 @4, timestamp_ns u64 @8, event_data @16
///   exec                    : process_pid u32 @16, process_tgid u32 @20
///   ack (what = NONE)       : err u32 @16
/// ```
///
/// Messages arrive at offsets that are not 8-aligned, so every field is read unaligned.
enum ProcConnectorWire {
    static let netlinkConnector: Int32 = 11  // NETLINK_CONNECTOR
    static let procIndex: UInt32 = 1  // CN_IDX_PROC (also the multicast group)
    static let procValue: UInt32 = 1  // CN_VAL_PROC
    static let netlinkDone: UInt16 = 3  // NLMSG_DONE: the type of every connector message

    static let netlinkHeaderSize = 16
    static let connectorHeaderSize = 20
    /// `what`, `cpu`, `timestamp_ns`: the part of `proc_event` before its union.
    static let eventHeaderSize = 16
    /// The union's bytes the agent reads (exec: pid and tgid).
    static let eventDataSize = 8

    /// `enum proc_cn_mcast_op`.
    enum Operation: UInt32 {
        case listen = 1
        case ignore = 2
    }

    /// `enum what` of `struct proc_event`, the values the agent tells apart.
    enum EventKind {
        static let none: UInt32 = 0  // the kernel's answer to listen/ignore
        static let exec: UInt32 = 2
    }

    /// A netlink message to the kernel's proc connector. With `eventFilter`, the payload is
    /// `struct proc_input { op, event_type }` (Linux 6.6+: the kernel then sends this socket only
    /// those events; older kernels ignore the message); without it, the classic `op` alone.
    static func control(_ operation: Operation, eventFilter: UInt32? = nil, sequence: UInt32, port: UInt32) -> [UInt8] {
        let payloadSize = eventFilter == nil ? 4 : 8
        let total = netlinkHeaderSize + connectorHeaderSize + payloadSize
        var message = [UInt8](repeating: 0, count: total)
        message.withUnsafeMutableBytes { bytes in
            bytes.storeBytes(of: UInt32(total), toByteOffset: 0, as: UInt32.self)
            bytes.storeBytes(of: netlinkDone, toByteOffset: 4, as: UInt16.self)
            bytes.storeBytes(of: sequence, toByteOffset: 8, as: UInt32.self)
            bytes.storeBytes(of: port, toByteOffset: 12, as: UInt32.self)
            let connector = netlinkHeaderSize
            bytes.storeBytes(of: procIndex, toByteOffset: connector, as: UInt32.self)
            bytes.storeBytes(of: procValue, toByteOffset: connector + 4, as: UInt32.self)
            bytes.storeBytes(of: sequence, toByteOffset: connector + 8, as: UInt32.self)
            bytes.storeBytes(of: UInt16(payloadSize), toByteOffset: connector + 16, as: UInt16.self)
            let payload = connector + connectorHeaderSize
            bytes.storeBytes(of: operation.rawValue, toByteOffset: payload, as: UInt32.self)
            if let eventFilter { bytes.storeBytes(of: eventFilter, toByteOffset: payload + 4, as: UInt32.self) }
        }
        return message
    }

    /// One `proc_event`, reduced to what the agent reads.
    struct Event: Equatable {
        var what: UInt32
        /// `cn_msg.seq`: for an ack, the sequence number of the request it answers.
        var sequence: UInt32
        /// `CLOCK_MONOTONIC` nanoseconds when the kernel sent it.
        var timestampNanoseconds: UInt64
        /// exec: `process_pid`; ack: `err`.
        var first: UInt32
        /// exec: `process_tgid`.
        var second: UInt32
    }

    /// Calls `body` with each proc event in one datagram; returns how many messages in it were
    /// not proc events or were cut short (malformed).
    @discardableResult
    static func forEachEvent(in datagram: UnsafeRawBufferPointer, _ body: (Event) -> Void) -> Int {
        var malformed = 0
        var offset = 0
        while offset + netlinkHeaderSize <= datagram.count {
            let length = Int(datagram.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let type = datagram.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            guard length >= netlinkHeaderSize, offset + length <= datagram.count else {
                return malformed + 1
            }
            if type == netlinkDone {
                if let event = event(in: UnsafeRawBufferPointer(rebasing: datagram[offset..<offset + length])) {
                    body(event)
                } else {
                    malformed += 1
                }
            }
            offset += (length + 3) & ~3  // NLMSG_ALIGN
        }
        return malformed
    }

    /// The proc event in one netlink message (header included); nil when it is not one.
    private static func event(in message: UnsafeRawBufferPointer) -> Event? {
        let connector = netlinkHeaderSize
        let payload = connector + connectorHeaderSize
        guard message.count >= payload + eventHeaderSize + eventDataSize,
            message.loadUnaligned(fromByteOffset: connector, as: UInt32.self) == procIndex,
            message.loadUnaligned(fromByteOffset: connector + 4, as: UInt32.self) == procValue,
            Int(message.loadUnaligned(fromByteOffset: connector + 16, as: UInt16.self))
                >= eventHeaderSize + eventDataSize
        else { return nil }
        return Event(
            what: message.loadUnaligned(fromByteOffset: payload, as: UInt32.self),
            sequence: message.loadUnaligned(fromByteOffset: connector + 8, as: UInt32.self),
            timestampNanoseconds: message.loadUnaligned(fromByteOffset: payload + 8, as: UInt64.self),
            first: message.loadUnaligned(fromByteOffset: payload + eventHeaderSize, as: UInt32.self),
            second: message.loadUnaligned(fromByteOffset: payload + eventHeaderSize + 4, as: UInt32.self)
        )
    }
}
