import Testing

@testable import RuleEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the loader reads rule files and lists directories: whole files of any size (read through a
/// 64 KiB scratch buffer), names sorted by their bytes.
@Suite struct RuleFileReadingTests {
    private func store(_ bytes: [UInt8], at path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        try #require(written == bytes.count)
    }

    @Test func filesOfEverySizeAroundTheBufferEdgesAreReadWhole() throws {
        let directory = try TemporaryDirectory()
        var generator = SystemRandomNumberGenerator()
        for size in [0, 1, 2, 4095, 4096, 4097, 65535, 65536, 65537, 200_001] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let path = directory.path + "/f\(size)"
            try store(bytes, at: path)
            defer { unlink(path) }
            #expect(try RuleLoader.readFile(path) == bytes, "\(size) bytes")
        }
    }

    @Test func aFileWhoseSizeIsNotKnownIsReadToItsEnd() throws {
        // Files under /proc say they are empty and are not.
        let bytes = try RuleLoader.readFile("/proc/self/status")
        #expect(bytes.count > 100)
        #expect(bytes.last == UInt8(ascii: "\n"))
    }

    @Test func aMissingFileIsAnErrorNamingIt() {
        #expect(
            throws: RuleError(
                file: "/nonexistent/r.xml",
                line: 0,
                column: 0,
                message: "cannot open: No such file or directory"
            )
        ) {
            try RuleLoader.readFile("/nonexistent/r.xml")
        }
        #expect(
            throws: RuleError(
                file: "/nonexistent",
                line: 0,
                column: 0,
                message: "cannot read: No such file or directory"
            )
        ) {
            try RuleLoader.listRuleFiles("/nonexistent")
        }
    }

    @Test func aDirectoryListsItsRuleFilesSortedByTheirBytes() throws {
        let directory = try TemporaryDirectory()
        let names = [
            "b.yml", "B.yml", "a.xml", "\u{E9}.yml", "e.yaml", "Z.xml", "a.xml.yml", ".hidden.yml", "x.txt", "_.xml",
        ]
        for name in names { try directory.createFile(name, "") }
        let expected = ["B.yml", "Z.xml", "_.xml", "a.xml", "a.xml.yml", "b.yml", "e.yaml", "\u{E9}.yml"]
        #expect(try RuleLoader.listRuleFiles(directory.path) == expected.map { directory.path + "/" + $0 })
        #expect(try RuleLoader.listRuleFiles(directory.path + "/") == expected.map { directory.path + "/" + $0 })
        #expect(try RuleLoader.listRuleFiles(directory.path + "/b.yml") == [directory.path + "/b.yml"])
    }
}
