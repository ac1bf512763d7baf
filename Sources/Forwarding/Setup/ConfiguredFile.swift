#if canImport(Glibc)
import Glibc
#endif

/// A file named in the configuration, read whole at start-up.
struct ConfiguredFile {
    /// The configuration key naming it (`forward.caFile`), for error messages.
    var setting: String
    var path: String

    /// The largest file accepted: certificates bundles stay far below this.
    static let maximumBytes = 4 << 20

    /// Its contents; refuses a file that is missing, unreadable, not regular, empty or too large.
    /// With `secret`, also refuses a file that group or others may read (as ssh does for keys).
    func contents(secret: Bool = false) throws(ForwarderSetupError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw failure(errno == ENOENT ? .missing : .unreadable(errno: errno))
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw failure(.unreadable(errno: errno)) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw failure(.notARegularFile) }
        if secret, info.st_mode & 0o077 != 0 { throw failure(.readableByOthers(mode: UInt32(info.st_mode))) }
        guard info.st_size <= Self.maximumBytes else { throw failure(.tooLarge(bytes: Int(info.st_size))) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(.unreadable(errno: errno))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
            if bytes.count > Self.maximumBytes { throw failure(.tooLarge(bytes: bytes.count)) }
        }
        guard !bytes.isEmpty else { throw failure(.empty) }
        return bytes
    }

    func failure(_ problem: ForwarderSetupError.FileProblem) -> ForwarderSetupError {
        .file(setting: setting, path: path, problem: problem)
    }
}
