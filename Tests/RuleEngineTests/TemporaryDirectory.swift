#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory under /tmp for one test; removed (with its files) when the value is released.
final class TemporaryDirectory {
    let path: String
    private var files: [String] = []

    init() throws {
        var template = Array("/tmp/execwatch-rules-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(message: "mkdtemp failed") }
        path = String(cString: made)
    }

    func createFile(_ name: String, _ text: String) throws {
        let file = path + "/" + name
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Failure(message: "cannot create \(file)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw Failure(message: "short write to \(file)") }
        files.append(file)
    }

    deinit {
        for file in files { unlink(file) }
        rmdir(path)
    }

    struct Failure: Error {
        var message: String
    }
}
