#if canImport(Glibc)
import Glibc
#endif

/// A directory under /tmp for one test, removed with its files when released.
final class TemporaryDirectory {
    let path: String
    private var files: [String] = []

    init() throws {
        var template = Array("/tmp/execwatch-proc-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        _ = made
    }

    /// Copies an executable into the directory under a new name; returns the copy's path.
    func copyExecutable(_ source: String, as name: String) throws -> String {
        let target = path + "/" + name
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw TestFailure("cannot open \(source)") }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard output >= 0 else { throw TestFailure("cannot create \(target)") }
        defer { close(output) }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let got = read(input, &chunk, chunk.count)
            guard got > 0 else { break }
            guard write(output, chunk, got) == got else { throw TestFailure("short write to \(target)") }
        }
        files.append(target)
        return target
    }

    deinit {
        for file in files { unlink(file) }
        rmdir(path)
    }
}
