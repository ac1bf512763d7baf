/// One netlink message of a datagram read from an audit socket; `payload` borrows the datagram.
struct NetlinkMessage {
    var type: UInt16
    var flags: UInt16
    var sequence: UInt32
    var payload: UnsafeRawBufferPointer

    /// Audit records are types 1100–2999 (user space messages 1100–1199 and 2100–2999, kernel
    /// events 1300–1999), except `AUDIT_REPLACE` (1329): the kernel's binary "are you alive"
    /// probe to the registered daemon. Each takes an audit serial.
    var isAuditRecord: Bool {
        (1100...2999).contains(type) && type != 1329
    }

    /// Records the pipeline reads: types 1300–2999 (the user space login and account messages
    /// 1100–1199 never belong to an exec).
    var isDeliveredRecord: Bool {
        type >= 1300 && isAuditRecord
    }
}

/// Splits a datagram from an audit socket into netlink messages.
enum NetlinkDatagram {
    static let headerSize = 16
    static let typeError: UInt16 = 2  // NLMSG_ERROR
    static let typeDone: UInt16 = 3  // NLMSG_DONE
    static let typeAuditReplace: UInt16 = 1329  // AUDIT_REPLACE: another process asked for the daemon role

    /// Calls `body` with each message of the datagram.
    ///
    /// The kernel sends each audit record as a datagram of its own, and for records sent to the
    /// registered daemon it sets `nlmsg_len` to the payload length only (a quirk kept for old
    /// auditd; multicast copies carry the true length). So a record takes the rest of the
    /// datagram as its payload, without the trailing NUL bytes.
    static func forEachMessage(in datagram: UnsafeRawBufferPointer, _ body: (NetlinkMessage) throws -> Void) rethrows {
        var offset = 0
        while datagram.count - offset >= headerSize {
            let length = Int(datagram.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let type = datagram.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            var message = NetlinkMessage(
                type: type,
                flags: datagram.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self),
                sequence: datagram.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self),
                payload: UnsafeRawBufferPointer(start: nil, count: 0)
            )
            let remaining = datagram.count - offset
            let end: Int
            if message.isAuditRecord || length > remaining || length < headerSize {
                end = datagram.count
            } else {
                end = offset + length
            }
            var payloadEnd = end
            if message.isAuditRecord {
                while payloadEnd > offset + headerSize, datagram[payloadEnd - 1] == 0 { payloadEnd -= 1 }
            }
            message.payload = UnsafeRawBufferPointer(rebasing: datagram[(offset + headerSize)..<payloadEnd])
            try body(message)
            offset = (end + 3) & ~3  // NLMSG_ALIGN
        }
    }

    /// The errno of an `NLMSG_ERROR` payload (0 for an acknowledgement).
    static func errorCode(of message: NetlinkMessage) -> Int32 {
        guard message.payload.count >= 4 else { return 0 }
        // The kernel sends -errno; Int32.min, which no errno is, cannot be negated in Int32.
        return Int32(clamping: -Int64(message.payload.loadUnaligned(as: Int32.self)))
    }
}
