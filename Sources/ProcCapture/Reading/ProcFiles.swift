#if canImport(Glibc)
import Glibc
#endif

/// Why a /proc file of a process could not be read.
enum ProcReadError: Error, Equatable {
    /// The process no longer exists (ENOENT, ESRCH), or it is exiting and its memory is gone.
    case gone
    /// Any other failure (EACCES without privileges, …), with its errno.
    case failed(Int32)

    init(errno code: Int32) {
        self = code == ENOENT || code == ESRCH ? .gone : .failed(code)
    }
}

/// Reads `/proc/PID/…` files and links into one reused buffer, without creating `String`s.
///
/// The bytes handed to a body are valid only during the call; the next read reuses the buffer.
/// Used by one thread at a time (the capture thread); not `Sendable`.
final class ProcFiles {
    private var buffer: UnsafeMutableRawBufferPointer
    private let path: UnsafeMutablePointer<CChar>
    private static let pathCapacity = 64

    init(initialCapacity: Int = 16 * 1024) {
        buffer = .allocate(byteCount: initialCapacity, alignment: 8)
        path = .allocate(capacity: Self.pathCapacity)
    }

    deinit {
        buffer.deallocate()
        path.deallocate()
    }

    /// Reads the whole file `/proc/PID/NAME` and passes its bytes to `body`.
    func read<Result>(
        _ name: StaticString,
        of pid: Int32,
        _ body: (UnsafeRawBufferPointer) -> Result
    ) throws(ProcReadError) -> Result {
        setPath(pid: pid, name: name)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ProcReadError(errno: errno) }
        defer { close(descriptor) }
        var length = 0
        while true {
            if length == buffer.count { grow() }
            let got = Glibc.read(descriptor, buffer.baseAddress! + length, buffer.count - length)
            if got > 0 {
                length += got
            } else if got == 0 {
                break
            } else if errno != EINTR {
                throw ProcReadError(errno: errno)
            }
        }
        return body(UnsafeRawBufferPointer(rebasing: buffer[0..<length]))
    }

    /// Reads the link `/proc/PID/NAME` (`exe`, `cwd`) and passes its target's bytes to `body`.
    func readLink<Result>(
        _ name: StaticString,
        of pid: Int32,
        _ body: (UnsafeRawBufferPointer) -> Result
    ) throws(ProcReadError) -> Result {
        setPath(pid: pid, name: name)
        while true {
            let got = readlink(path, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), buffer.count)
            guard got >= 0 else { throw ProcReadError(errno: errno) }
            if got < buffer.count { return body(UnsafeRawBufferPointer(rebasing: buffer[0..<got])) }
            grow()  // the target may have been cut: read it again with more room
        }
    }

    private func grow() {
        let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 8)
        larger.copyMemory(from: UnsafeRawBufferPointer(buffer))
        buffer.deallocate()
        buffer = larger
    }

    /// Writes `/proc/PID/NAME` and a NUL into `path`.
    private func setPath(pid: Int32, name: StaticString) {
        var index = 0
        func append(_ byte: UInt8) {
            path[index] = CChar(bitPattern: byte)
            index += 1
        }
        for byte in "/proc/".utf8 { append(byte) }
        let firstDigit = index
        var value = UInt32(bitPattern: pid)
        repeat {
            append(UInt8(value % 10) + 0x30)
            value /= 10
        } while value > 0
        var low = firstDigit
        var high = index - 1
        while low < high {
            (path[low], path[high]) = (path[high], path[low])
            low += 1
            high -= 1
        }
        append(UInt8(ascii: "/"))
        let nameBytes = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        precondition(index + nameBytes.count < Self.pathCapacity, "/proc path too long")
        for byte in nameBytes { append(byte) }
        append(0)
    }
}
