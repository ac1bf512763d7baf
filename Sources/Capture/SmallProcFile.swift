#if canImport(Glibc)
import Glibc
#endif

/// A small text file of /proc (`/proc/PID/comm`, `/proc/self/status`, `statm`), read whole: up to
/// 8 KiB, retried on EINTR; nil when it cannot be opened.
public enum SmallProcFile {
    public static func text(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 8192)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            filled += count
        }
        return String(decoding: bytes[0..<filled], as: UTF8.self)
    }
}
