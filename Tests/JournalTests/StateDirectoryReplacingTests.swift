import TestSupport
import Testing

@testable import Journal

#if canImport(Glibc)
import Glibc
#endif

/// Small state files (the audit state record) are replaced atomically and removed without
/// following links.
@Suite("Replacing and removing a state directory's files")
struct StateDirectoryReplacingTests {
    @Test("replaced whole, read back, removed; removing a missing file is fine")
    func replaceReadRemove() throws {
        let temporary = try TemporaryDirectory(prefix: "execwatch-replace")
        let directory = try StateDirectory(path: temporary.path, access: .writing(trustedOwner: nil))
        #expect(try directory.readFile("record") == nil)
        try directory.replaceFile("record", with: Array("first\n".utf8))
        try directory.replaceFile("record", with: Array("second, longer\n".utf8))
        #expect(try directory.readFile("record") == Array("second, longer\n".utf8))
        var info = stat()
        #expect(stat(temporary.path + "/record", &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(access(temporary.path + "/record.tmp", F_OK) != 0)
        try directory.removeFile("record")
        #expect(try directory.readFile("record") == nil)
        try directory.removeFile("record")
    }

    @Test("a link planted as the file or its temporary file is not followed")
    func linksNotFollowed() throws {
        let temporary = try TemporaryDirectory(prefix: "execwatch-replace")
        let victim = try temporary.write("victim", "do not touch\n", mode: 0o644)
        let directory = try StateDirectory(path: temporary.path, access: .writing(trustedOwner: nil))
        #expect(symlink(victim, temporary.path + "/record.tmp") == 0)
        #expect(symlink(victim, temporary.path + "/record") == 0)
        #expect(throws: StateDirectoryError.self) { try directory.readFile("record") }
        try directory.replaceFile("record", with: Array("new\n".utf8))
        #expect(try directory.readFile("record") == Array("new\n".utf8))
        var info = stat()
        #expect(stat(victim, &info) == 0 && info.st_size == 13)
        #expect(lstat(victim, &info) == 0 && info.st_mode & S_IFMT == S_IFREG)
    }
}
