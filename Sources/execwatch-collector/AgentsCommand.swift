import ArgumentParser
import Collector
import CollectorStorage
import ExecEvents
import Logging

/// `execwatch-collector agents`: the agents allowed to send incidents.
struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "Add, list and revoke the agents allowed to send incidents.",
        subcommands: [AddAgentCommand.self, ListAgentsCommand.self, RevokeAgentCommand.self]
    )
}

/// The commands' logger: warnings and worse only, so that output stays readable.
private var commandLogger: Logger {
    var logger = Logger(label: "execwatch-collector")
    logger.logLevel = .warning
    return logger
}

/// `agents add NAME`: a new token, shown once.
struct AddAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an agent and print its new token (the last line of the output).",
        discussion: """
            The token is 32 random bytes (ewt_ and 64 hex digits); only its SHA-256 is stored, so it \
            cannot be shown again. The agent sends it as `Authorization: Bearer <token>` (its \
            forward.tokenFile).
            """
    )

    @Argument(help: "The agent's name: 1 to 64 of A-Z a-z 0-9 . _ -")
    var name: String

    @OptionGroup var options: ConfigurationOptions

    func validate() throws {
        guard AgentToken.isValidAgentName(name) else {
            throw ValidationError("invalid agent name \"\(name)\": use 1 to 64 of A-Z a-z 0-9 . _ -")
        }
    }

    func run() async throws {
        let token = AgentToken.generate()
        let credential = AgentCredential(name: name, tokenHash: AgentToken.hash(token), createdAt: .now)
        try await withStore(options, logger: commandLogger) { store in
            do {
                try await store.addAgent(credential)
            } catch CollectorStoreError.agentExists {
                throw CommandFailure.failure("an agent named \"\(name)\" exists already")
            } catch {
                throw CommandFailure.failure("cannot add agent \"\(name)\": \(error)")
            }
        }
        print("Agent \"\(name)\" added. Put this token in its forward.tokenFile (mode 0600); it is not shown again:")
        print(token)
    }
}

/// `agents list`: name, created, revoked.
struct ListAgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the agents: name, when added, when revoked.",
        discussion: """
            With --json, one object per line: {"name":"…","created":"<RFC 3339>","revoked":"<RFC 3339>"|null}.
            """
    )

    @Flag(help: "One JSON object per line instead of a table.")
    var json = false

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let agents = try await withStore(options, logger: commandLogger) { store in
            do {
                return try await store.agents()
            } catch {
                throw CommandFailure.failure("cannot list agents: \(error)")
            }
        }
        if json {
            for agent in agents {
                var writer = JSONWriter(capacity: 128)
                writer.beginObject()
                writer.key("name")
                writer.string(agent.name)
                writer.key("created")
                writer.string(agent.createdAt.rfc3339)
                writer.key("revoked")
                if let revoked = agent.revokedAt { writer.string(revoked.rfc3339) } else { writer.null() }
                writer.endObject()
                print(String(decoding: writer.bytes, as: UTF8.self))
            }
            return
        }
        if agents.isEmpty {
            StandardError.write("execwatch-collector: no agents\n")
            return
        }
        let rows = agents.map { [$0.name, $0.createdAt.rfc3339, $0.revokedAt?.rfc3339 ?? "-"] }
        for line in TextTable(headers: ["NAME", "CREATED", "REVOKED"], rows: rows).lines(width: nil) {
            print(line)
        }
    }
}

/// `agents revoke NAME`: the agent's token stops working.
struct RevokeAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke an agent's token.",
        discussion: "A running collector stops accepting the token within 10 seconds (its token cache)."
    )

    @Argument(help: "The agent's name.")
    var name: String

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        try await withStore(options, logger: commandLogger) { store in
            do {
                guard let agent = try await store.agents().first(where: { $0.name == name }) else {
                    throw CommandFailure.failure("no agent named \"\(name)\"")
                }
                if let revoked = agent.revokedAt {
                    StandardError.write(
                        "execwatch-collector: agent \"\(name)\" was revoked already at \(revoked.rfc3339)\n"
                    )
                    return
                }
                _ = try await store.revokeAgent(name: name, at: .now)
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                throw CommandFailure.failure("cannot revoke agent \"\(name)\": \(error)")
            }
            print("Agent \"\(name)\" revoked.")
        }
    }
}
