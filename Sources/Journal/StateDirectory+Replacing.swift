#if canImport(Glibc)
import Glibc
#endif

extension StateDirectory {
    /// Replaces file `name` with `bytes` atomically and durably: written to `name.tmp` (created
    /// anew without following a link, mode 0600), synced, renamed over `name`, and the directory
    /// synced. A crash leaves either the old or the new contents, never part of them.
    public func replaceFile(_ name: String, with bytes: [UInt8]) throws(StateDirectoryError) {
        let temporary = name + ".tmp"
        // A temporary file left by a crash is never reused: it is removed and created exclusively.
        try removeFile(temporary)
        let file = try openFile(temporary, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(file, $0.baseAddress! + written, $0.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let code = count < 0 ? errno : EIO
                close(file)
                throw StateDirectoryError(
                    path: filePath(temporary),
                    problem: .system(operation: "write it", errno: code)
                )
            }
            written += count
        }
        let synced = fsync(file) == 0 ? 0 : errno
        close(file)
        guard synced == 0 else {
            throw StateDirectoryError(path: filePath(temporary), problem: .system(operation: "sync it", errno: synced))
        }
        guard renameat(descriptor, temporary, descriptor, name) == 0 else {
            throw StateDirectoryError(
                path: filePath(name),
                problem: .system(operation: "rename \(temporary) over it", errno: errno)
            )
        }
        sync()
    }

    /// Removes file `name` of the directory (a link is removed, never followed); nothing to do
    /// when it does not exist. The removal is made durable.
    public func removeFile(_ name: String) throws(StateDirectoryError) {
        guard unlinkat(descriptor, name, 0) == 0 else {
            guard errno == ENOENT else {
                throw StateDirectoryError(path: filePath(name), problem: .system(operation: "remove it", errno: errno))
            }
            return
        }
        sync()
    }

    /// The contents of file `name` (at most `limit` bytes), opened as ``openFileIfPresent(_:flags:mode:)``
    /// checks; nil when it does not exist.
    public func readFile(_ name: String, limit: Int = 1 << 16) throws(StateDirectoryError) -> [UInt8]? {
        guard let file = try openFileIfPresent(name, flags: O_RDONLY | O_NONBLOCK) else { return nil }
        defer { close(file) }
        var bytes = [UInt8](repeating: 0, count: limit)
        var total = 0
        while total < limit {
            let count = bytes.withUnsafeMutableBytes { read(file, $0.baseAddress! + total, limit - total) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw StateDirectoryError(path: filePath(name), problem: .system(operation: "read it", errno: errno))
            }
            if count == 0 { break }
            total += count
        }
        return Array(bytes[0..<total])
    }
}
