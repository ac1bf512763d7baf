import ArgumentParser
import ServiceLogging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `execwatch`: the agent's local tools.
struct Execwatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "execwatch",
        abstract: "Watch program executions and detect on the host with FortiSIEM rules.",
        version: "0.4.0",
        subcommands: [
            RunCommand.self, StatusCommand.self, ReplayCommand.self, RulesCommand.self, IncidentsCommand.self,
            AuditCommand.self,
        ]
    )
}

/// Exit statuses, as the README documents them.
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usageOrRuleError: Int32 = 2
}

/// A failure already reported on stderr, ending the run with a status.
struct ExitWithStatus: Error {
    var status: Int32
}

@main
enum Main {
    static func main() {
        do {
            if let replay = handParsedReplay() {
                try Replay(options: replay).run()
            } else {
                var command = try Execwatch.parseAsRoot()
                if let asyncCommand = command as? any AsyncParsableCommand {
                    try runBlocking(asyncCommand)
                } else {
                    try command.run()
                }
            }
            StandardOutput.shared.flush()
            exit(ExitStatus.success)
        } catch let failure as ExitWithStatus {
            StandardOutput.shared.flush()
            exit(failure.status)
        } catch {
            StandardOutput.shared.flush()
            let code = Execwatch.exitCode(for: error)
            let message = Execwatch.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                exit(ExitStatus.success)
            }
            if !message.isEmpty { StandardError.write(message + "\n") }
            // Usage errors (ArgumentParser's 64) are 2 here, as the README says.
            exit(code == .validationFailure ? ExitStatus.usageOrRuleError : ExitStatus.failure)
        }
    }
}

/// `replay`'s options, parsed by hand (``ReplayOptions/init(parsing:)``), when the arguments ask
/// for a replay in forms that parser takes. `replay` is run by scripts over many logs, where
/// start-up counts: ArgumentParser's reflection on the commands, and the search of the binary's
/// protocol conformances behind its casts, were most of an empty replay's time. Anything else
/// (other commands, help, errors) goes through ArgumentParser, for the same messages.
///
/// For the CLI tests, which compare both parsers on the same arguments:
/// `EXECWATCH_REPLAY_PARSER=argument-parser` never parses by hand; `=hand` refuses (status 3)
/// arguments the hand parser does not take, instead of passing them on.
private func handParsedReplay() -> ReplayOptions? {
    let arguments = CommandLine.arguments.dropFirst()
    let choice = getenv("EXECWATCH_REPLAY_PARSER").map { String(cString: $0) }
    if choice == "argument-parser" { return nil }
    guard arguments.first == "replay", let options = ReplayOptions(parsing: arguments.dropFirst()) else {
        if choice == "hand" {
            StandardError.write("execwatch: the hand parser does not take these arguments\n")
            exit(3)
        }
        return nil
    }
    return options
}

/// Runs an async command to completion while the main thread waits (see ``BlockingAsyncMain``).
private func runBlocking(_ command: any AsyncParsableCommand) throws {
    let box = AsyncCommandBox(command)
    BlockingAsyncMain.run { await box.run() }
    try box.outcome.withLock { $0 }.get()
}

/// Carries the command into the task that runs it and the outcome back.
///
/// `@unchecked Sendable`: `command` is touched only by that one task; the main thread reads
/// `outcome` (behind a mutex) after the task signalled that it finished.
private final class AsyncCommandBox: @unchecked Sendable {
    private var command: any AsyncParsableCommand
    let outcome = Mutex<Result<Void, any Error>>(.success(()))

    init(_ command: any AsyncParsableCommand) {
        self.command = command
    }

    func run() async {
        do {
            try await command.run()
        } catch {
            outcome.withLock { $0 = .failure(error) }
        }
    }
}
