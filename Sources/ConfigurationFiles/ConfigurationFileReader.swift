#if canImport(Glibc)
import Glibc
#endif

/// Reads a configuration file's text with plain system calls.
public enum ConfigurationFileReader {
    /// The file's text; nil when it is missing and was not asked for explicitly. Files over 1 MiB
    /// are refused.
    public static func read(_ path: String, required: Bool) throws(ConfigurationError) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if !required && errno == ENOENT { return nil }
            throw ConfigurationError(location: path, message: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw ConfigurationError(location: path, message: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
            if bytes.count > 1 << 20 { throw ConfigurationError(location: path, message: "larger than 1 MiB") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
