#if canImport(Glibc)
import Glibc
#endif

/// A program the test starts with an exact argv (any bytes), in its own process group, stdio on
/// /dev/null. Released: the whole group is killed and the child reaped.
final class ChildProcess {
    let pid: Int32
    private var reaped = false

    /// Starts `path` with exactly `argv` (argv[0] included).
    init(_ path: String, argv arguments: [[UInt8]]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor: Int32 in 0...2 {
            posix_spawn_file_actions_addopen(
                &actions,
                descriptor,
                "/dev/null",
                descriptor == 0 ? O_RDONLY : O_WRONLY,
                0
            )
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv: [UnsafeMutablePointer<CChar>?] =
            arguments.map { argument in
                let copy = UnsafeMutablePointer<CChar>.allocate(capacity: argument.count + 1)
                for (index, byte) in argument.enumerated() { copy[index] = CChar(bitPattern: byte) }
                copy[argument.count] = 0
                return copy
            } + [nil]
        defer { for argument in argv { argument?.deallocate() } }
        var child: pid_t = 0
        var status = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        // A program copied a moment ago can be busy while a process another test forks still
        // holds the copy's descriptor (until it execs): try again shortly.
        for _ in 0..<50 where status == ETXTBSY {
            sleepSeconds(0.01)
            status = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        }
        guard status == 0 else { throw TestFailure("posix_spawn \(path): errno \(status)") }
        pid = child
    }

    /// Starts `path` with argv `[path] + arguments`.
    convenience init(_ path: String, arguments: String...) throws {
        try self.init(path, argv: ([path] + arguments).map { Array($0.utf8) })
    }

    /// Waits for the child to exit; returns its wait status.
    @discardableResult
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        reaped = true
        return status
    }

    /// The pids of the child's own children (`/proc/PID/task/PID/children`).
    func children() -> [Int32] {
        let text = readText("/proc/\(pid)/task/\(pid)/children") ?? ""
        return text.split(separator: " ").compactMap { Int32($0.trimmingWhitespace) }
    }

    /// Waits until the child has a child of its own that runs `program` (its `comm`): a shell has
    /// reached that command. Returns the grandchild's pid.
    func waitForChild(running program: String, timeoutSeconds: Double = 5) throws -> Int32 {
        let deadline = monotonicSeconds() + timeoutSeconds
        while monotonicSeconds() < deadline {
            for child in children() where readText("/proc/\(child)/comm") == program + "\n" {
                if hasArguments(child) { return child }
            }
            sleepSeconds(0.01)
        }
        throw TestFailure("process \(pid) started no \(program)")
    }

    /// Waits until the program has its arguments in place (posix_spawn returns in the middle of
    /// the exec, before the kernel has set them up).
    func waitUntilExecuted(timeoutSeconds: Double = 5) throws {
        let deadline = monotonicSeconds() + timeoutSeconds
        while !hasArguments(pid) {
            guard monotonicSeconds() < deadline else { throw TestFailure("process \(pid) shows no arguments") }
            sleepSeconds(0.005)
        }
    }

    private func hasArguments(_ pid: Int32) -> Bool { !(readText("/proc/\(pid)/cmdline") ?? "").isEmpty }

    deinit {
        guard !reaped else { return }
        kill(-pid, SIGKILL)
        wait()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Substring {
    var trimmingWhitespace: Substring {
        var text = self
        while let last = text.last, last.isWhitespace { text.removeLast() }
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        return text
    }
}

/// A whole small file as text (e.g. from /proc); nil when it cannot be read.
func readText(_ path: String) -> String? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let got = read(descriptor, &chunk, chunk.count)
        guard got > 0 else { break }
        bytes += chunk[0..<got]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// What a symbolic link points to.
func linkTarget(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink(path, &buffer, buffer.count)
    guard length >= 0 else { return nil }
    return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The fully resolved path of a file.
func resolvedPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func sleepSeconds(_ seconds: Double) {
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
}
