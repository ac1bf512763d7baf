import Capture

#if canImport(Glibc)
import Glibc
#endif

/// Answers `execwatch status` on a Unix socket: each connection gets one status JSON object and
/// is closed. Runs on its own thread; the socket file is created mode 0660 and removed on stop.
public final class StatusServer: Sendable {
    public let path: String
    private let listener: Int32
    private let snapshot: @Sendable () -> AgentStatus

    /// Creates the socket (its directory too, mode 0755) and starts listening.
    public init(path: String, snapshot: @escaping @Sendable () -> AgentStatus) throws(CaptureError) {
        self.path = path
        self.snapshot = snapshot
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            _ = mkdir(String(path[..<slash]), 0o755)  // e.g. /run/execwatch; fine if it exists
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw CaptureError(operation: "status socket \(path)", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw CaptureError(operation: "socket(AF_UNIX)", errno: errno) }
        unlink(path)  // a socket file left by an agent that did not stop cleanly
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            let error = errno
            close(fd)
            throw CaptureError(operation: "bind \(path)", errno: error)
        }
        chmod(path, 0o660)
        guard listen(fd, 16) == 0 else {
            let error = errno
            close(fd)
            throw CaptureError(operation: "listen \(path)", errno: error)
        }
        listener = fd
    }

    /// Serves until `stop` is signalled, then removes the socket file.
    public func serve(until stop: StopSignal) {
        defer {
            close(listener)
            unlink(path)
        }
        ConnectionLoop.serve(listener: listener, until: stop) { client in
            ConnectionLoop.send(snapshot().json + [0x0a], to: client)
        }
    }

    /// Asks a running agent for its status: the JSON text, or the reason it could not be had.
    public static func request(path: String) -> Result<[UInt8], CaptureError> {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            return .failure(CaptureError(operation: "connect \(path)", errno: ENAMETOOLONG))
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(CaptureError(operation: "socket(AF_UNIX)", errno: errno)) }
        defer { close(fd) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            return .failure(CaptureError(operation: "connect \(path)", errno: errno, detail: "is the agent running?"))
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(CaptureError(operation: "read status from \(path)", errno: errno))
            }
            if count == 0 { break }
            reply.append(contentsOf: buffer[0..<count])
        }
        return .success(reply)
    }
}
