#if canImport(Glibc)
import Glibc
#endif

/// Reads a text file or pipe (audit logs, JSON lines) line by line with one reused buffer, so memory does not
/// grow with the size of the input.
///
/// Lines longer than ``maximumLineLength`` are reported as too long and skipped whole; a last
/// line without a newline is still delivered.
public final class LineReader {
    /// Why the input could not be read: the path and the system's errno.
    public struct ReadError: Error, CustomStringConvertible {
        public var path: String
        public var errno: Int32
        public var description: String { "\(path): \(String(cString: strerror(errno)))" }
    }

    public static let maximumLineLength = 1 << 20

    private let fd: Int32
    private let ownsDescriptor: Bool
    public let path: String

    /// Opens a file; `-` means standard input.
    public init(path: String) throws(ReadError) {
        self.path = path == "-" ? "<stdin>" : path
        if path == "-" {
            fd = STDIN_FILENO
            ownsDescriptor = false
        } else {
            let opened = open(path, O_RDONLY | O_CLOEXEC)
            guard opened >= 0 else { throw ReadError(path: path, errno: errno) }
            fd = opened
            ownsDescriptor = true
        }
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    /// Calls `body` with each line (without its newline) and its 1-based line number, or with nil
    /// bytes for a line that was too long.
    public func forEachLine(_ body: (UnsafeRawBufferPointer?, Int) throws -> Void) throws {
        let chunkSize = 1 << 18
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var filled = 0  // bytes in buffer
        var lineNumber = 0
        var skippingLongLine = false
        while true {
            if filled == buffer.count {
                // No newline in the whole buffer: grow up to the limit, else skip the line.
                if buffer.count < Self.maximumLineLength + 1 {
                    buffer.append(contentsOf: repeatElement(0, count: buffer.count))
                } else {
                    if !skippingLongLine {
                        lineNumber += 1
                        try body(nil, lineNumber)
                    }
                    skippingLongLine = true
                    filled = 0
                }
            }
            let count = buffer.withUnsafeMutableBytes { raw in
                read(fd, raw.baseAddress! + filled, raw.count - filled)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, errno: errno)
            }
            if count == 0 {
                if filled > 0 && !skippingLongLine {
                    lineNumber += 1
                    try buffer.withUnsafeBytes { raw in
                        try body(UnsafeRawBufferPointer(rebasing: raw[0..<filled]), lineNumber)
                    }
                }
                return
            }
            let scanStart = filled
            filled += count
            var consumed = 0
            try buffer.withUnsafeBytes { raw in
                var i = scanStart
                while i < filled {
                    guard let found = memchr(raw.baseAddress! + i, 0x0a, filled - i) else { break }
                    let newline = raw.baseAddress!.distance(to: UnsafeRawPointer(found))
                    if skippingLongLine {
                        skippingLongLine = false
                    } else {
                        lineNumber += 1
                        try body(UnsafeRawBufferPointer(rebasing: raw[consumed..<newline]), lineNumber)
                    }
                    consumed = newline + 1
                    i = consumed
                }
            }
            if consumed > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    let rest = filled - consumed
                    if rest > 0 { memmove(raw.baseAddress!, raw.baseAddress! + consumed, rest) }
                }
                filled -= consumed
            }
        }
    }
}
