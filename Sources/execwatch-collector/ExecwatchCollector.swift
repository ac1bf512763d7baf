import ArgumentParser
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `execwatch-collector`: the central collector of execwatch incidents.
struct ExecwatchCollector: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "execwatch-collector",
        abstract: "Receive incidents from execwatch agents, store them, and show them.",
        version: "0.4.0",
        subcommands: [
            ServeCommand.self, CredentialsCommand<AgentKind>.self, CredentialsCommand<ReaderKind>.self,
            IncidentsCommand.self,
        ]
    )
}

/// Exit statuses: 0 success, 1 a failure, 2 a usage or configuration error.
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usageOrConfiguration: Int32 = 2
}

/// A failure to report as `execwatch-collector: <message>` and end the run with `status`.
struct CommandFailure: Error {
    var status: Int32
    var message: String

    static func failure(_ message: String) -> CommandFailure {
        CommandFailure(status: ExitStatus.failure, message: message)
    }

    static func configuration(_ message: String) -> CommandFailure {
        CommandFailure(status: ExitStatus.usageOrConfiguration, message: message)
    }
}

/// Parses the arguments, runs the command, and turns its outcome into an exit status.
///
/// The error that ends `serve` is logged at err (`<3>`, what `journalctl -p err` shows) like
/// the server's other log lines; the other commands print theirs plainly for the person at the
/// terminal.
enum CommandLineRunner {
    static func run(_ arguments: [String]) async -> Int32 {
        var command: any ParsableCommand
        do {
            command = try ExecwatchCollector.parseAsRoot(arguments)
        } catch {
            return report(error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return ExitStatus.success
        } catch {
            if command is ServeCommand {
                let failure = error as? CommandFailure ?? .failure("\(error)")
                Logger(label: "execwatch-collector").error("\(failure.message)")
                return failure.status
            }
            return report(error)
        }
    }

    private static func report(_ error: any Error) -> Int32 {
        if let failure = error as? CommandFailure {
            StandardError.write("execwatch-collector: \(failure.message)\n")
            return failure.status
        }
        let code = ExecwatchCollector.exitCode(for: error)
        let message = ExecwatchCollector.fullMessage(for: error)
        if code == .success {
            if !message.isEmpty { print(message) }
            return ExitStatus.success
        }
        if !message.isEmpty { StandardError.write(message + "\n") }
        // ArgumentParser's usage errors (64) are 2 here.
        return code == .validationFailure ? ExitStatus.usageOrConfiguration : ExitStatus.failure
    }
}

/// `EXECWATCH_COLLECTOR_LOG_LEVEL` (trace, debug, info, notice, warning, error, critical).
enum CollectorLogLevel {
    static var fromEnvironment: Logger.Level {
        guard let value = getenv("EXECWATCH_COLLECTOR_LOG_LEVEL") else { return .info }
        return Logger.Level(rawValue: String(cString: value).lowercased()) ?? .info
    }
}

/// Diagnostics, unbuffered, to stderr.
enum StandardError {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            var offset = 0
            while offset < utf8.count {
                let written = Glibc.write(STDERR_FILENO, utf8.baseAddress! + offset, utf8.count - offset)
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
