#if canImport(Glibc)
import Glibc
#endif

/// Tells a capture thread to stop. It is the read end of a pipe, so a thread blocked in `poll` on
/// its socket wakes up at once (a thread blocked in `recv` would not see task cancellation).
public final class StopSignal: Sendable {
    /// Poll this for `POLLIN` next to the source's own descriptor.
    public let descriptor: Int32
    private let writeEnd: Int32

    public init() throws(CaptureError) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw CaptureError(operation: "pipe", errno: errno) }
        for end in ends {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
        }
        descriptor = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        close(descriptor)
        close(writeEnd)
    }

    /// Wakes every poller; stays signalled (the byte is never read).
    public func signal() {
        var one: UInt8 = 1
        _ = write(writeEnd, &one, 1)
    }

    public var isSignalled: Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0
    }
}

/// A system call a capture source needed failed: which, and the errno it gave.
public struct CaptureError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var errno: Int32
    /// More context (e.g. "another audit daemon (pid 812) owns audit").
    public var detail: String?

    public init(operation: String, errno: Int32, detail: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.detail = detail
    }

    public var description: String {
        var text = "\(operation) failed"
        if errno != 0 { text += ": \(String(cString: strerror(errno))) (errno \(errno))" }
        if let detail { text += "; \(detail)" }
        return text
    }
}
