import ConfigurationFiles
import Journal

#if canImport(Glibc)
import Glibc
#endif

/// The agent's own files in its state directory: the directory itself, the lock that keeps a
/// second agent out, and the agent id kept across restarts. The directory and every file are
/// opened and checked as ``StateDirectory`` says: no link is followed, and the directory must
/// belong to the agent (root, or the `user:` account it hands its files to) and be writable by
/// nobody else.
public struct AgentStateDirectory: Sendable {
    /// The agent's files, the journal's included: what is handed over to the `user:` account.
    static let fileNames = ["agent.db", "agent.db-wal", "agent.db-shm", "agent-id", "agent.lock"]

    public let directory: StateDirectory
    public var path: String { directory.path }
    /// The `user:` account, whose ownership of the directory and its files is trusted.
    public let user: PrivilegeDrop.User?

    /// Opens and checks the directory, creating it (mode 0700) if needed.
    public init(path: String, user: PrivilegeDrop.User? = nil) throws(StateDirectoryError) {
        self.directory = try StateDirectory(path: path, access: .writing(trustedOwner: user?.uid))
        self.user = user
    }

    /// Takes the agent lock (`agent.lock`, holding this pid) for the life of the process. Fails
    /// with the other agent's pid when one holds it (a ``ConfigurationError``), or with a
    /// ``StateDirectoryError`` when the lock file is not safe to use.
    public func lock() throws -> Int32 {
        let fd = try directory.openFile("agent.lock", flags: O_RDWR | O_CREAT, mode: 0o600)
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, buffer.count, 0)
            let holder = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingSpaces : "?"
            close(fd)
            throw ConfigurationError(
                location: directory.filePath("agent.lock"),
                message: "another execwatch agent (pid \(holder)) is running with this state directory"
            )
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return fd  // kept open: the lock lasts as long as the process
    }

    /// Gives the directory and the agent's files in it to the `user:` account the agent will run
    /// as, so the journal can still be written after the switch.
    public func handOver() throws(StateDirectoryError) {
        guard let user else { return }
        try directory.handOver(Self.fileNames, toUID: user.uid, gid: user.gid)
    }

    /// The id written into incidents: `agent-id` in the directory, created once (128 random bits).
    public func agentId() throws(StateDirectoryError) -> String {
        if let fd = try directory.openFileIfPresent("agent-id", flags: O_RDONLY | O_NONBLOCK) {
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = read(fd, &buffer, buffer.count)
            let existing = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingSpaces : ""
            if !existing.isEmpty { return existing }
        }
        var generator = SystemRandomNumberGenerator()  // getrandom(2)
        let random = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let id = random.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        // An empty file left by a crash is replaced.
        let fd = try directory.openFile("agent-id", flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        defer { close(fd) }
        let line = Array((id + "\n").utf8)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        directory.sync()
        return id
    }
}

extension String {
    var trimmingSpaces: String {
        String(self.drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}
