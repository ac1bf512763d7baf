#if canImport(Glibc)
import Glibc
#endif

/// Reads a text file or pipe (audit logs, JSON lines) line by line with one reused buffer, so memory does not
/// grow with the size of the input.
///
/// Lines longer than ``maximumLineLength`` are reported as too long and skipped whole; a last
/// line without a newline is still delivered.
///
/// A regular file is memory-mapped: lines are slices of the mapping, valid until the reader is
/// released (``linesStayValid``), and nothing is copied. Pages already read are handed back to the
/// kernel as the reading moves on, so resident memory stays small however large the file is.
/// Pipes and other streams are read into one reused buffer; their lines are valid only during
/// the callback.
///
/// A caller that goes on using lines after the callback, on another thread say, sets
/// ``releasableOffset``: pages are then handed back only below the offset it returns.
public final class LineReader {
    /// Why the input could not be read: the path and the system's errno.
    public struct ReadError: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var errno: Int32
        public var description: String { "\(path): \(String(cString: strerror(errno)))" }
    }

    public static let maximumLineLength = 1 << 20

    private let fd: Int32
    private let ownsDescriptor: Bool
    public let path: String

    /// Bytes of the input consumed so far: up to the end of the last line delivered (with its
    /// newline), or of the line being delivered while ``forEachLine(_:)`` calls its body.
    /// Without run-time exclusivity checks: it is written for every line, and a reader is used by
    /// one thread at a time (only ``forEachLine(_:)`` writes it, and nothing it calls does).
    @exclusivity(unchecked) public private(set) var position = 0

    /// For a mapped file: how far (bytes from its start) the caller is done with the lines; the
    /// pages of read lines are handed back only below it (and not within 2 MiB behind it, where
    /// events still open have their records). Nil: as soon as they are read.
    public var releasableOffset: (() -> Int)?

    /// How diagnostics name the input at `path` (``path``): `-` is `<stdin>`.
    public static func displayName(of path: String) -> String {
        path == "-" ? "<stdin>" : path
    }

    /// Opens a file; `-` means standard input.
    public init(path: String) throws(ReadError) {
        self.path = Self.displayName(of: path)
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
        if let mapping { munmap(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count) }
        if ownsDescriptor { close(fd) }
    }

    /// The file's mapping, when it is a regular, non-empty file that could be mapped.
    private lazy var mapping: UnsafeRawBufferPointer? = {
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0 else { return nil }
        let size = Int(info.st_size)
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            return nil
        }
        _ = madvise(address, size, MADV_SEQUENTIAL)
        return UnsafeRawBufferPointer(start: address, count: size)
    }()

    /// Whether the lines passed to ``forEachLine(_:)`` stay valid after the callback returns,
    /// until this reader is released (true for memory-mapped regular files).
    public var linesStayValid: Bool { mapping != nil }

    /// Calls `body` with each line (without its newline) and its 1-based line number, or with nil
    /// bytes for a line that was too long.
    public func forEachLine(_ body: (UnsafeRawBufferPointer?, Int) throws -> Void) throws {
        if let mapping {
            try forEachMappedLine(mapping, body)
            return
        }
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
                    position += filled
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
                    position += filled
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
                    position += newline + 1 - consumed
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

    private func forEachMappedLine(
        _ file: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer?, Int) throws -> Void
    ) throws {
        let base = file.baseAddress!
        let releaseStep = 2 << 20  // hand back read pages in 2 MiB steps, keeping the last step
        var released = 0
        var nextRelease = 2 * releaseStep  // where to look again
        var start = 0
        var lineNumber = 0
        while start < file.count {
            let end: Int
            if let found = memchr(base + start, 0x0a, file.count - start) {
                end = base.distance(to: UnsafeRawPointer(found))
            } else {
                end = file.count
            }
            lineNumber += 1
            position = min(end + 1, file.count)
            if end - start > Self.maximumLineLength {
                try body(nil, lineNumber)
            } else {
                try body(UnsafeRawBufferPointer(rebasing: file[start..<end]), lineNumber)
            }
            start = end + 1
            // Pages a pending event still refers to are simply read back from the page cache.
            if start >= nextRelease {
                let done = releasableOffset.map { min($0(), start) } ?? start
                let page = Int(sysconf(Int32(_SC_PAGESIZE)))
                let upTo = (done - releaseStep) / page * page
                if upTo > released {
                    _ = madvise(UnsafeMutableRawPointer(mutating: base + released), upTo - released, MADV_DONTNEED)
                    released = upTo
                }
                // The caller may be behind: look again a little later, not at every line.
                nextRelease = max(released + 2 * releaseStep, start + releaseStep / 4)
            }
        }
    }
}
