import CAudit
import Capture

#if canImport(Glibc)
import Glibc
#endif

/// A netlink socket to the kernel's audit subsystem (`NETLINK_AUDIT`): requests (status,
/// settings, rules, registering as the audit daemon) and the records the kernel sends to it.
///
/// A link is used by one thread at a time (it is not `Sendable`): it owns one receive buffer,
/// reused for every datagram, and a request sequence counter.
///
/// libaudit opens the socket, changes settings (enabled, backlog) and builds, adds and deletes
/// rules. Requests whose answers must be told apart from records or from a late acknowledgement
/// (status, rule list, audit pid) are sent and matched by sequence number here: libaudit's
/// acknowledgement check takes the first message in the queue, which may be the status reply
/// (the kernel sends it from another thread, before or after the acknowledgement) or, on the
/// daemon's socket, a record.
public final class AuditLink {
    /// The socket; poll it for `POLLIN` to wait for records.
    public let descriptor: Int32
    /// Datagrams the socket dropped because its receive buffer was full (`ENOBUFS`), so far.
    public private(set) var overruns = 0
    private let buffer: UnsafeMutableRawBufferPointer
    private var nextSequence: UInt32 = 1
    /// How long a request waits for its answer.
    private let replyTimeoutMilliseconds = 3000

    /// The size of the receive buffer: more than the largest audit record (8970 bytes).
    static let bufferSize = 1 << 16

    /// Opens a socket for requests (libaudit's `audit_open`). Fails with `EPROTONOSUPPORT` when
    /// the kernel has no audit support.
    public init() throws(CaptureError) {
        Self.silenceLibaudit
        let fd = audit_open()
        guard fd >= 0 else {
            let code = errno
            throw CaptureError(
                operation: "socket(AF_NETLINK, NETLINK_AUDIT)",
                errno: code,
                detail: code == EPROTONOSUPPORT || code == EAFNOSUPPORT
                    ? "this kernel has no audit support (CONFIG_AUDIT)" : nil
            )
        }
        descriptor = fd
        buffer = .allocate(byteCount: Self.bufferSize, alignment: 8)
    }

    /// Opens a read-only socket that receives a copy of every audit record (the multicast group
    /// `AUDIT_NLGRP_READLOG`; needs CAP_AUDIT_READ), whoever the audit daemon is.
    public static func openReadLog() throws(CaptureError) -> AuditLink {
        let link = try AuditLink()
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        address.nl_groups = 1 << (UInt32(AUDIT_NLGRP_READLOG.rawValue) - 1)
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(link.descriptor, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            throw CaptureError(
                operation: "bind(NETLINK_AUDIT, AUDIT_NLGRP_READLOG)",
                errno: code,
                detail: code == EPERM ? "reading audit records by multicast needs CAP_AUDIT_READ" : nil
            )
        }
        return link
    }

    deinit {
        close(descriptor)
        buffer.deallocate()
    }

    /// libaudit prints its errors to stderr; errors are reported through `CaptureError` instead.
    /// (Process-wide libaudit setting, made once.)
    private static let silenceLibaudit: Void = set_aumessage_mode(MSG_QUIET, DBG_NO)

    // MARK: - Receiving

    /// What one non-blocking receive gave.
    enum ReceiveOutcome {
        /// A datagram was read and its messages passed on.
        case received
        /// Nothing waiting.
        case empty
        /// The socket had dropped datagrams (`ENOBUFS`, counted in ``overruns``); reading goes on.
        case overrun
    }

    /// Reads one datagram without blocking (into the link's one buffer) and calls `body` with each
    /// of its messages; their payloads are valid only during the call.
    func receive(_ body: (NetlinkMessage) -> Void) throws(CaptureError) -> ReceiveOutcome {
        while true {
            let count = recv(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            if count >= 0 {
                NetlinkDatagram.forEachMessage(in: UnsafeRawBufferPointer(rebasing: buffer[0..<count]), body)
                return .received
            }
            if let outcome = try failedReceive(errno, "recv(NETLINK_AUDIT)") { return outcome }
        }
    }

    /// Reads up to ``batchSize`` datagrams with one system call (recvmmsg) and calls `body` with
    /// each of their messages: one system call for many records when they come in bursts.
    func receiveBatch(_ body: (NetlinkMessage) -> Void) throws(CaptureError) -> ReceiveOutcome {
        let batch = batchBuffers
        while true {
            let count = execwatch_recvmmsg(
                descriptor,
                batch.headers.baseAddress,
                UInt32(Self.batchSize),
                Int32(MSG_DONTWAIT)
            )
            if count > 0 {
                for k in 0..<Int(count) {
                    let length = Int(batch.headers[k].msg_len)
                    let start = k * Self.batchSlotSize
                    NetlinkDatagram.forEachMessage(
                        in: UnsafeRawBufferPointer(rebasing: batch.slots[start..<(start + length)]),
                        body
                    )
                }
                return .received
            }
            if let outcome = try failedReceive(errno, "recvmmsg(NETLINK_AUDIT)") { return outcome }
        }
    }

    /// What a failed receive means: nil to try again (EINTR), else the outcome or the error.
    private func failedReceive(_ code: Int32, _ operation: String) throws(CaptureError) -> ReceiveOutcome? {
        switch code {
        case EINTR: return nil
        case EAGAIN, EWOULDBLOCK: return .empty
        case ENOBUFS:
            overruns += 1
            return .overrun
        default: throw CaptureError(operation: operation, errno: code)
        }
    }

    /// How many datagrams one ``receiveBatch(_:)`` reads at most, and the room for each (more
    /// than the largest audit record, 8970 bytes).
    static let batchSize = 64
    static let batchSlotSize = 9216

    /// The buffers of ``receiveBatch(_:)``, made on first use (only the record link needs them).
    private lazy var batchBuffers: BatchBuffers = BatchBuffers(count: Self.batchSize, slotSize: Self.batchSlotSize)

    /// Raises the socket's receive buffer to `bytes` (`SO_RCVBUFFORCE` with CAP_NET_ADMIN, else
    /// `SO_RCVBUF` up to `net.core.rmem_max`). Returns the size the kernel granted, as it reports
    /// it (twice the bytes asked for: the kernel counts its bookkeeping too).
    @discardableResult
    public func raiseReceiveBuffer(to bytes: Int) -> Int {
        var size = Int32(clamping: bytes)
        let length = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, length) != 0 {
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, length)
        }
        var granted: Int32 = 0
        var grantedLength = length
        _ = getsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &granted, &grantedLength)
        return Int(granted)
    }

    // MARK: - Requests

    /// How the answer to a request ends.
    enum AnswerEnd {
        /// An acknowledgement (the request carries `NLM_F_ACK`).
        case acknowledgement
        /// One message of this type.
        case reply(UInt16)
        /// `NLMSG_DONE` after any number of messages.
        case done
    }

    /// Sends a request and reads its answer, passing every answering message other than the end
    /// to `answer`, and messages that answer nothing (records) to `unrelated`.
    func request(
        _ operation: String,
        type: UInt16,
        payload: UnsafeRawBufferPointer,
        until end: AnswerEnd,
        answer: (NetlinkMessage) -> Void = { _ in },
        unrelated: (NetlinkMessage) -> Void = { _ in }
    ) throws(CaptureError) {
        let sequence = nextSequence
        nextSequence = nextSequence == .max ? 1 : nextSequence + 1
        var flags = UInt16(NLM_F_REQUEST)
        if case .acknowledgement = end { flags |= UInt16(NLM_F_ACK) }
        try send(operation, type: type, flags: flags, sequence: sequence, payload: payload)

        let deadline = MonotonicClock.milliseconds() + replyTimeoutMilliseconds
        var finished = false
        while !finished {
            let remaining = deadline - MonotonicClock.milliseconds()
            guard remaining > 0 else {
                throw CaptureError(operation: operation, errno: ETIMEDOUT, detail: "the kernel did not answer")
            }
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(remaining))
            if ready < 0 && errno != EINTR { throw CaptureError(operation: "poll(NETLINK_AUDIT)", errno: errno) }
            if ready <= 0 { continue }
            var failure: Int32 = 0
            _ = try receive { message in
                guard !finished, message.sequence == sequence, !message.isAuditRecord else {
                    unrelated(message)
                    return
                }
                switch (message.type, end) {
                case (NetlinkDatagram.typeError, _):
                    failure = NetlinkDatagram.errorCode(of: message)
                    finished = true
                case (let type, .reply(let wanted)) where type == wanted:
                    answer(message)
                    finished = true
                case (NetlinkDatagram.typeDone, .done):
                    finished = true
                default:
                    answer(message)
                }
            }
            if failure != 0 { throw CaptureError(operation: operation, errno: failure) }
        }
    }

    private func send(
        _ operation: String,
        type: UInt16,
        flags: UInt16,
        sequence: UInt32,
        payload: UnsafeRawBufferPointer
    ) throws(CaptureError) {
        let headerSize = NetlinkDatagram.headerSize
        var message = [UInt8](repeating: 0, count: headerSize + ((payload.count + 3) & ~3))
        message.withUnsafeMutableBytes { bytes in
            bytes.storeBytes(of: UInt32(headerSize + payload.count), toByteOffset: 0, as: UInt32.self)
            bytes.storeBytes(of: type, toByteOffset: 4, as: UInt16.self)
            bytes.storeBytes(of: flags, toByteOffset: 6, as: UInt16.self)
            bytes.storeBytes(of: sequence, toByteOffset: 8, as: UInt32.self)
            if let base = payload.baseAddress, payload.count > 0 {
                (bytes.baseAddress! + headerSize).copyMemory(from: base, byteCount: payload.count)
            }
        }
        var kernel = sockaddr_nl()
        kernel.nl_family = sa_family_t(AF_NETLINK)
        while true {
            let sent = message.withUnsafeBytes { bytes in
                withUnsafePointer(to: &kernel) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(
                            descriptor,
                            bytes.baseAddress,
                            bytes.count,
                            0,
                            $0,
                            socklen_t(MemoryLayout<sockaddr_nl>.size)
                        )
                    }
                }
            }
            if sent >= 0 { return }
            if errno != EINTR { throw CaptureError(operation: operation, errno: errno) }
        }
    }
}

/// The vectors and slots `recvmmsg` fills: one iovec and one message header per slot, pointing
/// into one allocation. Owned by one ``AuditLink`` (used by its one thread).
final class BatchBuffers {
    let slots: UnsafeMutableRawBufferPointer
    let vectors: UnsafeMutableBufferPointer<iovec>
    let headers: UnsafeMutableBufferPointer<execwatch_mmsghdr>

    init(count: Int, slotSize: Int) {
        slots = .allocate(byteCount: count * slotSize, alignment: 8)
        vectors = .allocate(capacity: count)
        headers = .allocate(capacity: count)
        for k in 0..<count {
            vectors[k] = iovec(iov_base: slots.baseAddress! + k * slotSize, iov_len: slotSize)
            var header = execwatch_mmsghdr()
            header.msg_hdr.msg_iov = vectors.baseAddress! + k
            header.msg_hdr.msg_iovlen = 1
            headers[k] = header
        }
    }

    deinit {
        slots.deallocate()
        vectors.deallocate()
        headers.deallocate()
    }
}
