import Agent
import ArgumentParser
import ConfigurationFiles
import ExecEvents
import Forwarding
import Journal
import Logging
import ServiceLogging

#if canImport(Glibc)
import Glibc
#endif

/// `execwatch run`: the agent daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Watch this host's program executions and keep a journal of incidents.",
        discussion: """
            Configuration comes from FILE (YAML; every key has a default, so an empty or missing \
            default file works), then EXECWATCH_* environment variables, then these options. \
            SIGHUP reloads the rules; SIGTERM or SIGINT stops, undoing the agent's changes to audit.
            """
    )

    static let defaultConfigFile = "/etc/execwatch/agent.yaml"

    @Option(help: "The configuration file (default: \(RunCommand.defaultConfigFile) when it exists).")
    var config: String?

    @Option(help: "auto, ebpf, audit-unicast, audit-multicast, audisp, proc-connector or proc-poll.")
    var source: String?

    @Option(help: "The journal's directory (default /var/lib/execwatch).")
    var stateDir: String?

    @Option(help: "The hostName of events (default: this host's name).")
    var host: String?

    @Option(name: .customLong("rules"), help: "A rule file or directory (repeatable).")
    var rulePaths: [String] = []

    @Option(help: "The status socket (default /run/execwatch/agent.sock).")
    var statusSocket: String?

    func run() async throws {
        AgentRuntime.limitMallocArenas()
        LoggingSystem.bootstrap { JournaldLogHandler(label: $0) }
        let logger = Logger(label: "execwatch")
        let configuration: AgentConfiguration
        do {
            configuration = try loadConfiguration()
        } catch {
            // At err, as every error that ends the start: `journalctl -p err` shows it.
            logger.error("\(error)")
            throw ExitWithStatus(status: ExitStatus.usageOrRuleError)
        }
        let runtime = AgentRuntime(configuration: configuration, logger: logger)
        do {
            let status = try await runtime.run(openStore: AgentJournal.open, selectSource: AgentSources.select)
            if status != 0 { throw ExitWithStatus(status: status) }
        } catch let error as ConfigurationError {
            logger.error("\(error)")
            throw ExitWithStatus(status: ExitStatus.usageOrRuleError)
        } catch let error as StateDirectoryError {
            // The configured stateDir (or a file in it) is not safe to use.
            logger.error("stateDir: \(error)")
            throw ExitWithStatus(status: ExitStatus.usageOrRuleError)
        } catch let error as ForwarderSetupError {
            logger.error("\(error)")
            throw ExitWithStatus(status: ExitStatus.usageOrRuleError)
        } catch let exit as ExitWithStatus {
            throw exit
        } catch {
            logger.error("\(error)")
            throw ExitWithStatus(status: ExitStatus.failure)
        }
    }

    func loadConfiguration() throws -> AgentConfiguration {
        var configuration = AgentConfiguration()
        let path = config ?? Self.defaultConfigFile
        if let text = try ConfigurationFileReader.read(path, required: config != nil) {
            configuration = try AgentConfigurationLoader.load(yaml: text, file: path)
        }
        var environment: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let pair = String(cString: pointer)
            if let equals = pair.firstIndex(of: "="), pair.hasPrefix("EXECWATCH_") {
                environment[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            entry += 1
        }
        try AgentConfigurationLoader.applyEnvironment(environment, to: &configuration)
        if let source {
            do {
                configuration.source = try AgentConfiguration.SourceChoice.named(source)
            } catch {
                throw ConfigurationError(location: "--source", message: error.message)
            }
        }
        if let stateDir { configuration.stateDirectory = stateDir }
        if let host { configuration.hostName = host }
        if !rulePaths.isEmpty { configuration.rulePaths = rulePaths }
        if let statusSocket { configuration.statusSocket = statusSocket }
        return configuration
    }
}

/// `execwatch status`: asks the running agent.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the running agent is doing (source, counters, loss, outbox, capabilities).",
        discussion: """
            With --wait SECONDS, first waits up to that long for the agent to answer with its source \
            running (an exec from then on is seen): for scripts that start the agent and use it at once. \
            Exit status 1 when the agent does not answer (in time).
            """
    )

    @Flag(help: "Print the status as one JSON object.")
    var json = false

    @Option(help: "The agent's status socket.")
    var socket = "/run/execwatch/agent.sock"

    @Option(help: "Wait up to this many seconds for the agent to be capturing.")
    var wait: Double?

    func run() throws {
        var reply: [UInt8]
        var value: JSONValue?
        let deadline = EventTime.now.millisecondsSinceEpoch + Int64((wait ?? 0) * 1000)
        while true {
            switch StatusServer.request(path: socket) {
            case .failure(let error):
                guard EventTime.now.millisecondsSinceEpoch < deadline else {
                    StandardError.write("execwatch: cannot get status: \(error)\(waited)\n")
                    throw ExitWithStatus(status: ExitStatus.failure)
                }
                usleep(50_000)
                continue
            case .success(let answer):
                reply = answer
                value = try? JSONValue.parse(bytes: Array(reply.prefix { $0 != 0x0a }))
            }
            guard wait != nil, value?["sourceRunning"] == .bool(false) else { break }
            guard EventTime.now.millisecondsSinceEpoch < deadline else {
                StandardError.write("execwatch: the agent answers but its source is not running yet\(waited)\n")
                throw ExitWithStatus(status: ExitStatus.failure)
            }
            usleep(50_000)
        }
        if json {
            StandardOutput.shared.write(reply)
            return
        }
        guard let value else {
            StandardError.write("execwatch: the agent's reply is not JSON\n")
            throw ExitWithStatus(status: ExitStatus.failure)
        }
        StandardOutput.shared.writeLine(AgentStatus.render(json: value))
    }

    private var waited: String {
        guard let wait else { return "" }
        return wait == wait.rounded() ? " (waited \(Int(wait)) s)" : " (waited \(wait) s)"
    }
}
