#if canImport(Glibc)
import Glibc
#endif

/// The process-wide lock every test (of any target, or script) that changes the host's audit
/// state holds while it runs: an exclusive `flock` on ``path``. `flock` locks belong to the open
/// file, so two holders in one process exclude each other too.
final class AuditTestLock {
    /// Shared by every test target and script that touches kernel audit state.
    static let path = "/run/lock/execwatch-audit-tests.lock"

    private var descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Waits (up to `timeoutSeconds`) for the lock.
    static func acquire(timeoutSeconds: Int = 600) throws -> AuditTestLock {
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw TestFailure("cannot open the audit test lock \(path): errno \(errno)") }
        for _ in 0..<(timeoutSeconds * 10) {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return AuditTestLock(descriptor: fd) }
            guard errno == EWOULDBLOCK || errno == EINTR else { break }
            usleep(100_000)
        }
        close(fd)
        throw TestFailure("the audit test lock \(path) was not free within \(timeoutSeconds) s")
    }

    func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}

/// A test precondition that does not hold, said plainly.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
