#if canImport(Glibc)
import Glibc
#endif

/// A file of /proc read whole (`/proc/PID/comm`, `/proc/self/status`, `statm`, `smaps`), retried on
/// EINTR, up to a read error; nil when it cannot be opened.
public enum SmallProcFile {
    /// Its text, up to 8 KiB.
    public static func text(_ path: String) -> String? {
        bytes(path, limit: 8192).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Its bytes, up to `limit` of them (a /proc file is generated as it is read: it has no size
    /// to ask for first).
    public static func bytes(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: min(limit, 8192))
        var filled = 0
        while filled < limit {
            if filled == bytes.count { bytes += repeatElement(0, count: min(bytes.count, limit - bytes.count)) }
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            filled += count
        }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }
}
