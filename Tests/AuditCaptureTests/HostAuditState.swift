import Foundation

/// The host's audit state as `auditctl` prints it, to compare before and after a test.
struct HostAuditState: Equatable, CustomStringConvertible {
    /// `auditctl -s` fields that a test must leave as it found them.
    static let comparedFields = ["enabled", "failure", "pid", "rate_limit", "backlog_limit", "backlog_wait_time"]

    var status: [String: String]
    /// `auditctl -l`, verbatim.
    var rules: String

    static func read() throws -> HostAuditState {
        let statusText = try Command.output("/usr/sbin/auditctl", "-s")
        var status: [String: String] = [:]
        for line in statusText.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2, comparedFields.contains(String(parts[0])) {
                status[String(parts[0])] = String(parts[1])
            }
        }
        return HostAuditState(status: status, rules: try Command.output("/usr/sbin/auditctl", "-l"))
    }

    var pid: Int32 { Int32(status["pid"] ?? "") ?? -1 }
    var enabled: Int { Int(status["enabled"] ?? "") ?? -1 }

    var description: String {
        Self.comparedFields.map { "\($0)=\(status[$0] ?? "?")" }.joined(separator: " ") + "; rules: \(rules)"
    }
}

/// Runs programs for the tests.
enum Command {
    /// Runs a program, waits, and returns its standard output; throws when it fails.
    static func output(_ path: String, _ arguments: String...) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("\(path) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs a program to its end with no input or output; returns its pid (the pid of the exec).
    @discardableResult
    static func run(_ path: String, _ arguments: String...) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }
}
