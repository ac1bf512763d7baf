import Agent
import ArgumentParser
import AuditCapture
import Capture
import ConfigurationFiles
import Journal

#if canImport(Glibc)
import Glibc
#endif

/// `execwatch audit`: the agent's changes to the kernel's audit state.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Put audit back after an agent that could not (killed, crashed).",
        subcommands: [AuditRestoreCommand.self]
    )
}

/// `execwatch audit restore`: puts audit back as a dead agent's record (`audit-state` in the
/// state directory) says it was found. The unit runs it as `ExecStopPost=`.
struct AuditRestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put audit back as found, from the record an agent left when it was killed.",
        discussion: """
            An agent in an audit mode writes down the audit state it found (enabled flag, backlog \
            limit and wait time, the rules it added) in STATE_DIR/audit-state before changing it, \
            and removes the record when it stops cleanly. After a crash this command puts that \
            state back and removes the record. It does nothing when there is no record, when the \
            record is from an earlier boot (removed), or when a running agent holds the state \
            directory's lock (that agent restores on stop).
            """
    )

    @Option(help: "The agent's configuration file (default: \(RunCommand.defaultConfigFile) when it exists).")
    var config: String?

    @Option(help: "The agent's state directory (default: stateDir of the configuration, /var/lib/execwatch).")
    var stateDir: String?

    func run() throws {
        var arguments: [String] = []
        if let config { arguments += ["--config", config] }
        if let stateDir { arguments += ["--state-dir", stateDir] }
        let configuration: AgentConfiguration
        do {
            configuration = try RunCommand.parse(arguments).loadConfiguration()
        } catch {
            StandardError.write("execwatch: \(error)\n")
            throw ExitWithStatus(status: ExitStatus.usageOrRuleError)
        }
        let path = configuration.stateDirectory
        var info = stat()
        if lstat(path, &info) != 0, errno == ENOENT {
            StandardOutput.shared.writeLine("execwatch: no state directory \(path): no audit state to restore")
            return
        }
        do {
            let user = try configuration.user.map { name throws(CaptureError) in try PrivilegeDrop.User(named: name) }
            let state = try AgentStateDirectory(path: path, user: user)
            let lock: Int32
            do {
                lock = try state.lock()
            } catch let held as ConfigurationError {
                StandardOutput.shared.writeLine("execwatch: \(held.description): it restores audit when it stops")
                return
            }
            defer { close(lock) }
            let record = state.auditState
            guard try record.read() != nil else {
                StandardOutput.shared.writeLine(
                    "execwatch: no audit state record in \(path) (the last agent stopped cleanly): nothing to restore"
                )
                return
            }
            let control = try AuditLink()
            let bootId = try AuditStateRecord.currentBootId()
            switch try AuditStateRecovery.restoreLeftover(from: record, bootId: bootId, control: control) {
            case .none:
                StandardOutput.shared.writeLine("execwatch: no audit state record in \(path): nothing to restore")
            case .otherBoot(let other):
                StandardOutput.shared.writeLine(
                    "execwatch: removed \(record.location), a record from another boot (\(other)): nothing to restore"
                )
            case .restored(let found):
                StandardOutput.shared.writeLine(
                    "execwatch: audit put back as the killed agent found it (\(found.summary)); "
                        + "removed \(record.location)"
                )
            }
        } catch let error as StateDirectoryError {
            StandardError.write("execwatch: cannot restore audit: stateDir: \(error)\n")
            throw ExitWithStatus(status: ExitStatus.usageOrRuleError)
        } catch {
            StandardError.write("execwatch: cannot restore audit: \(error)\n")
            throw ExitWithStatus(status: ExitStatus.failure)
        }
    }
}
