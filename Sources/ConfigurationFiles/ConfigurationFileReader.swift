#if canImport(Glibc)
import Glibc
#endif

/// Reads a configuration file's text with plain system calls.
public enum ConfigurationFileReader {
    /// The file's text; nil when it is missing and was not asked for explicitly. Files over 1 MiB
    /// are refused, and so is text that is not UTF-8 (with where it stops being UTF-8).
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
        return try text(of: bytes, path: path)
    }

    /// `bytes` as text; an error at the line and column (in characters) of the first byte that is
    /// not UTF-8, rather than a replacement character in a setting.
    static func text(of bytes: [UInt8], path: String) throws(ConfigurationError) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var line = 1
        var column = 1
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while case .scalarValue(let scalar) = decoder.decode(&iterator) {
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        throw ConfigurationError(location: "\(path):\(line):\(column)", message: "not UTF-8 text")
    }
}
