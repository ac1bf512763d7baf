import Capture
import ConfigurationFiles

#if canImport(Glibc)
import Glibc
#endif

/// The agent's own files in its state directory: the directory itself, the lock that keeps a
/// second agent out, and the agent id kept across restarts.
public struct AgentStateDirectory: Sendable {
    public let path: String

    /// Creates the directory (mode 0700) if needed.
    public init(path: String) throws(ConfigurationError) {
        self.path = path
        var info = stat()
        if stat(path, &info) != 0 {
            guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
                throw ConfigurationError(location: "stateDir \(path)", message: String(cString: strerror(errno)))
            }
        } else if (info.st_mode & S_IFMT) != S_IFDIR {
            throw ConfigurationError(location: "stateDir \(path)", message: "exists and is not a directory")
        }
    }

    /// Takes the agent lock (`agent.lock`, holding this pid) for the life of the process. Fails
    /// with the other agent's pid when one holds it.
    public func lock() throws(ConfigurationError) -> Int32 {
        let lockPath = path + "/agent.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ConfigurationError(location: lockPath, message: String(cString: strerror(errno)))
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, buffer.count, 0)
            let holder = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingSpaces : "?"
            close(fd)
            throw ConfigurationError(
                location: lockPath,
                message: "another execwatch agent (pid \(holder)) is running with this state directory"
            )
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return fd  // kept open: the lock lasts as long as the process
    }

    /// Gives the directory and the agent's files in it to the user the agent will run as, so the
    /// journal can still be written after the switch.
    public func handOver(to user: PrivilegeDrop.User) throws(CaptureError) {
        for name in ["", "/agent.db", "/agent.db-wal", "/agent.db-shm", "/agent-id", "/agent.lock"] {
            let file = path + name
            if chown(file, user.uid, user.gid) != 0 && errno != ENOENT {
                throw CaptureError(operation: "chown \(file) to \(user.name)", errno: errno)
            }
        }
    }

    /// The id written into incidents: `agent-id` in the directory, created once (128 random bits).
    public func agentId() throws(ConfigurationError) -> String {
        let idPath = path + "/agent-id"
        if let existing = readFile(idPath)?.trimmingSpaces, !existing.isEmpty { return existing }
        var generator = SystemRandomNumberGenerator()  // getrandom(2)
        let random = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let id = random.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        let fd = open(idPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConfigurationError(location: idPath, message: String(cString: strerror(errno))) }
        let line = Array((id + "\n").utf8)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        return id
    }

    private func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = read(fd, &buffer, buffer.count)
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : nil
    }
}

extension String {
    var trimmingSpaces: String {
        String(self.drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}
