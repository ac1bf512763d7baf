import AuditCapture
import Foundation

/// An auditd started by hand for a test (as scripts/capture-audit-fixture.sh does): its own
/// configuration directory and log file, in the foreground (`auditd -n`), optionally with one
/// plugin that copies auditd's plugin stream (`format = string`) into a FIFO the test reads.
final class TemporaryAuditd {
    let directory: String
    /// The FIFO the plugin writes to, when there is a plugin.
    let pluginFIFO: String?
    /// auditd's pid; 0 once it has been reaped. (Spawned and reaped here, not through
    /// Foundation's `Process`, whose exit tracking lagged by seconds.)
    private(set) var pid: Int32 = 0
    private let pidFileExisted = FileManager.default.fileExists(atPath: "/run/auditd.pid")

    /// Writes the configuration and starts auditd; does not wait for it to register.
    init(withPlugin: Bool) throws {
        let template = Array("/tmp/execwatch-auditd.XXXXXX".utf8CString)
        var path = template
        guard let made = mkdtemp(&path) else { throw TestFailure("mkdtemp failed: errno \(errno)") }
        directory = String(cString: made)
        let plugins = directory + "/plugins.d"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: false)
        // The one template the tests and scripts share (scripts/temporary-auditd.conf).
        let configuration = try String(
            contentsOfFile: Self.repositoryRoot + "/scripts/temporary-auditd.conf",
            encoding: .utf8
        )
        try Self.write(
            configuration.replacingOccurrences(of: "@LOG_FILE@", with: directory + "/audit.log")
                .replacingOccurrences(of: "@PLUGIN_DIR@", with: plugins)
                .replacingOccurrences(of: "@FLUSH@", with: "INCREMENTAL_ASYNC"),
            to: directory + "/auditd.conf",
            mode: 0o640
        )
        if withPlugin {
            let fifo = directory + "/plugin.fifo"
            guard mkfifo(fifo, 0o600) == 0 else { throw TestFailure("mkfifo \(fifo) failed: errno \(errno)") }
            pluginFIFO = fifo
            try Self.write("#!/bin/sh\nexec cat > '\(fifo)'\n", to: directory + "/plugin.sh", mode: 0o755)
            try Self.write(
                """
                active = yes
                direction = out
                path = \(directory)/plugin.sh
                type = always
                format = string

                """,
                to: plugins + "/execwatch-test.conf",
                mode: 0o640
            )
        } else {
            pluginFIFO = nil
        }
        pid = try Self.spawn(
            ["/usr/sbin/auditd", "-n", "-s", "enable", "-c", directory],
            standardError: directory + "/auditd.stderr"
        )
    }

    /// The checkout this test was built from.
    static let repositoryRoot: String = {
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)  // Tests/AuditCaptureTests/TemporaryAuditd.swift
        return components.joined(separator: "/")
    }()

    private static func spawn(_ arguments: [String], standardError: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, standardError, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // The test process's threads block signals; auditd and its plugins must get SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        var allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var argv = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for argument in argv { free(argument) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, arguments[0], &actions, &attributes, argv, environ)
        guard result == 0 else { throw TestFailure("posix_spawn \(arguments[0]) failed: errno \(result)") }
        return child
    }

    /// Whether auditd still runs (reaping it when it has exited).
    private var isRunning: Bool {
        guard pid > 0 else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            pid = 0
            return false
        }
        return true
    }

    /// Waits until the kernel shows auditd as the audit daemon.
    func waitUntilRegistered(timeoutSeconds: Double = 10) throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutSeconds * 1000))
        while ContinuousClock.now < deadline {
            let expected = pid
            guard isRunning else {
                let said = (try? String(contentsOfFile: directory + "/auditd.stderr", encoding: .utf8)) ?? ""
                throw TestFailure("auditd exited during startup: \(said)")
            }
            if (try? AuditLink().status().pid) == UInt32(expected) { return }
            usleep(50_000)
        }
        throw TestFailure("auditd (pid \(pid)) did not register with the kernel within \(timeoutSeconds) s")
    }

    /// SIGTERM, then SIGKILL after 10 s; removes its files (and the pid file it wrote).
    func stop() {
        if isRunning {
            kill(pid, SIGTERM)
            for _ in 0..<200 where isRunning { usleep(50_000) }
            if isRunning {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                pid = 0
            }
        }
        if !pidFileExisted { try? FileManager.default.removeItem(atPath: "/run/auditd.pid") }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func write(_ text: String, to path: String, mode: Int) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }
}
