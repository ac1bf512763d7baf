import AuditRecords

#if canImport(Glibc)
import Glibc
#endif

/// Buffered writes to standard output with write(2): JSON lines leave in large blocks, without
/// going through Foundation or per-line system calls.
final class StandardOutput {
    // Only the main thread writes; the CLI is single-threaded.
    nonisolated(unsafe) static let shared = StandardOutput()

    private var buffer: [UInt8] = []
    private let limit = 1 << 16

    private init() {
        buffer.reserveCapacity(limit + 4096)
    }

    func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= limit { flush() }
    }

    func writeLine(_ bytes: [UInt8]) {
        if bytes.count >= limit {
            // A large line (an exec with a long argv) leaves as it is, without a copy.
            flush()
            bytes.withUnsafeBytes { writeAll($0) }
            buffer.append(0x0a)
            return
        }
        buffer.append(contentsOf: bytes)
        buffer.append(0x0a)
        if buffer.count >= limit { flush() }
    }

    func writeLine(_ text: String) {
        writeLine(Array(text.utf8))
    }

    func flush() {
        buffer.withUnsafeBytes { writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                // The reader went away (EPIPE): nothing more can be delivered.
                exit(ExitStatus.failure)
            }
            offset += written
        }
    }
}

/// Diagnostics and summaries: unbuffered, to stderr.
enum StandardError {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            var offset = 0
            while offset < utf8.count {
                let written = Glibc.write(STDERR_FILENO, utf8.baseAddress! + offset, utf8.count - offset)
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}

/// Opens a file to read line by line (`-`: standard input); reports a failure and ends the run
/// with status 1.
func openInput(_ path: String) throws -> LineReader {
    do {
        return try LineReader(path: path)
    } catch {
        throw reportUnreadable(error)
    }
}

/// Reports an input that could not be opened; the run ends with the status returned.
func reportUnreadable(_ error: LineReader.ReadError) -> ExitWithStatus {
    StandardError.write("execwatch: cannot read \(error)\n")
    return ExitWithStatus(status: ExitStatus.failure)
}
