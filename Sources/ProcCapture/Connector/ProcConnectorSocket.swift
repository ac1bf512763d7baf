import Capture

#if canImport(Glibc)
import Glibc
#endif

/// A netlink socket bound to the kernel's proc connector group (needs CAP_NET_ADMIN).
/// Non-blocking: poll it, then read until `wouldBlock`.
struct ProcConnectorSocket: ~Copyable {
    let descriptor: Int32
    /// The socket's netlink port id, as the kernel assigned it.
    let port: UInt32
    private var sequence: UInt32

    /// What one read from the socket gave.
    enum Received {
        /// A datagram of this many bytes from the kernel.
        case datagram(Int)
        /// A datagram from a sender other than the kernel (ignored).
        case foreign
        /// Nothing waiting.
        case wouldBlock
        /// The socket's receive queue overflowed: the kernel dropped messages (ENOBUFS).
        case overrun
    }

    init(receiveBufferBytes: Int) throws(CaptureError) {
        let descriptor = socket(
            AF_NETLINK,
            Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
                | Int32(SOCK_NONBLOCK.rawValue),
            ProcConnectorWire.netlinkConnector
        )
        guard descriptor >= 0 else {
            throw CaptureError(operation: "socket(NETLINK_CONNECTOR)", errno: errno)
        }
        var size = Int32(clamping: receiveBufferBytes)
        let sizeLength = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeLength) != 0 {
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, sizeLength)  // capped by rmem_max
        }
        var address = Self.address(port: 0, groups: ProcConnectorWire.procIndex)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_storage>.size))
            }
        }
        guard bound == 0 else {
            let code = errno
            close(descriptor)
            throw CaptureError(
                operation: "bind(NETLINK_CONNECTOR, CN_IDX_PROC)",
                errno: code,
                detail: code == EPERM ? "the proc connector needs CAP_NET_ADMIN" : nil
            )
        }
        var assigned = sockaddr_storage()
        var assignedLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &assigned) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &assignedLength) }
        }
        self.descriptor = descriptor
        self.port = withUnsafeBytes(of: &assigned) { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) }
        self.sequence = UInt32(truncatingIfNeeded: getpid()) << 8
    }

    deinit {
        close(descriptor)
    }

    /// Sends a listen/ignore request to the kernel; returns its sequence number (which the
    /// kernel's ack repeats).
    @discardableResult
    mutating func send(
        _ operation: ProcConnectorWire.Operation,
        eventFilter: UInt32? = nil
    ) throws(CaptureError) -> UInt32 {
        sequence &+= 1
        let message = ProcConnectorWire.control(operation, eventFilter: eventFilter, sequence: sequence, port: port)
        var kernel = Self.address(port: 0, groups: 0)
        let sent = message.withUnsafeBytes { bytes in
            withUnsafePointer(to: &kernel) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(
                        descriptor,
                        bytes.baseAddress,
                        bytes.count,
                        0,
                        $0,
                        socklen_t(MemoryLayout<sockaddr_storage>.size)
                    )
                }
            }
        }
        guard sent == message.count else {
            throw CaptureError(
                operation: "send(PROC_CN_MCAST_\(operation == .listen ? "LISTEN" : "IGNORE"))",
                errno: errno
            )
        }
        return sequence
    }

    /// Reads one datagram into `buffer`.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(CaptureError) -> Received {
        var sender = sockaddr_storage()
        var senderLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let got = withUnsafeMutablePointer(to: &sender) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(descriptor, buffer.baseAddress, buffer.count, 0, $0, &senderLength)
                }
            }
            if got >= 0 {
                let senderPort = withUnsafeBytes(of: &sender) { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) }
                return senderPort == 0 ? .datagram(got) : .foreign
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case ENOBUFS: return .overrun
            case let code: throw CaptureError(operation: "recvfrom(NETLINK_CONNECTOR)", errno: code)
            }
        }
    }

    /// A `struct sockaddr_nl` (family u16 @0, pad u16 @2, pid u32 @4, groups u32 @8) in storage
    /// large enough for any address.
    private static func address(port: UInt32, groups: UInt32) -> sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { bytes in
            bytes.storeBytes(of: UInt16(AF_NETLINK), toByteOffset: 0, as: UInt16.self)
            bytes.storeBytes(of: port, toByteOffset: 4, as: UInt32.self)
            bytes.storeBytes(of: groups, toByteOffset: 8, as: UInt32.self)
        }
        return storage
    }
}
