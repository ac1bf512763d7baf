import ArgumentParser
import Collector
import CollectorStorage
import ExecEvents
import Logging

/// The two kinds of credentials the commands manage: what tells `agents` and `readers` apart.
protocol CredentialKind {
    static var role: CredentialRole { get }
    /// `agents` or `readers`.
    static var commandName: String { get }
    /// "agent" or "reader".
    static var noun: String { get }
    /// What a new token is for, said when it is printed.
    static var tokenUse: String { get }
    static var abstract: String { get }
}

extension CredentialKind {
    /// "Agent" or "Reader".
    static var title: String { noun.prefix(1).uppercased() + noun.dropFirst() }
}

enum AgentKind: CredentialKind {
    static let role = CredentialRole.agent
    static let commandName = "agents"
    static let noun = "agent"
    static let tokenUse = "Put this token in its forward.tokenFile (mode 0600)"
    static let abstract = """
        Add, list and revoke the agents allowed to send incidents. An agent's name is the hostName of \
        the incidents it may send, and the CN of its client certificate when it uses one.
        """
}

enum ReaderKind: CredentialKind {
    static let role = CredentialRole.reader
    static let commandName = "readers"
    static let noun = "reader"
    static let tokenUse = "Use it as bearer token, or as the password of the web page's login"
    static let abstract = """
        Add, list and revoke the readers allowed to read incidents (the web page and \
        GET /api/v1/incidents).
        """
}

/// `execwatch-collector agents` and `readers`.
struct CredentialsCommand<Kind: CredentialKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: Kind.commandName,
            abstract: Kind.abstract,
            subcommands: [
                AddCredentialCommand<Kind>.self, ListCredentialsCommand<Kind>.self,
                RevokeCredentialCommand<Kind>.self,
            ]
        )
    }
}

/// The commands' logger: warnings and worse only, so that output stays readable.
private var commandLogger: Logger {
    var logger = Logger(label: "execwatch-collector")
    logger.logLevel = .warning
    return logger
}

/// `agents add NAME`, `readers add NAME`: a new token, shown once.
struct AddCredentialCommand<Kind: CredentialKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "add",
            abstract: "Add \(article(Kind.noun)) and print its new token (the last line of the output).",
            discussion: """
                The token is 32 random bytes (ewt_ and 64 hex digits); only its SHA-256 is stored, so it \
                cannot be shown again. Names are unique among agents and readers together.
                """
        )
    }

    @Argument(help: "The name: 1 to 64 of A-Z a-z 0-9 . _ -")
    var name: String

    @OptionGroup var options: ConfigurationOptions

    func validate() throws {
        guard CredentialToken.isValidName(name) else {
            throw ValidationError("invalid \(Kind.noun) name \"\(name)\": use 1 to 64 of A-Z a-z 0-9 . _ -")
        }
    }

    func run() async throws {
        let token = CredentialToken.generate()
        let credential = Credential(
            name: name,
            role: Kind.role,
            tokenHash: CredentialToken.hash(token),
            createdAt: .now
        )
        try await withStore(options, logger: commandLogger) { store in
            do {
                try await store.addCredential(credential)
            } catch let error as CollectorStoreError {
                guard case .nameTaken = error else {
                    throw CommandFailure.failure("cannot add \(Kind.noun) \"\(name)\": \(error)")
                }
                throw CommandFailure.failure("\(error)")
            } catch {
                throw CommandFailure.failure("cannot add \(Kind.noun) \"\(name)\": \(error)")
            }
        }
        print("\(Kind.title) \"\(name)\" added. \(Kind.tokenUse); it is not shown again:")
        print(token)
    }
}

/// `agents list`, `readers list`: name, created, revoked.
struct ListCredentialsCommand<Kind: CredentialKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "list",
            abstract: "List the \(Kind.commandName): name, when added, when revoked.",
            discussion: """
                With --json, one object per line: {"name":"…","created":"<RFC 3339>","revoked":"<RFC 3339>"|null}.
                """
        )
    }

    @Flag(help: "One JSON object per line instead of a table.")
    var json = false

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let credentials = try await withStore(options, logger: commandLogger) { store in
            do {
                return try await store.credentials().filter { $0.role == Kind.role }
            } catch {
                throw CommandFailure.failure("cannot list \(Kind.commandName): \(error)")
            }
        }
        if json {
            for credential in credentials {
                var writer = JSONWriter(capacity: 128)
                writer.beginObject()
                writer.key("name")
                writer.string(credential.name)
                writer.key("created")
                writer.string(credential.createdAt.rfc3339)
                writer.key("revoked")
                if let revoked = credential.revokedAt { writer.string(revoked.rfc3339) } else { writer.null() }
                writer.endObject()
                print(String(decoding: writer.bytes, as: UTF8.self))
            }
            return
        }
        if credentials.isEmpty {
            StandardError.write("execwatch-collector: no \(Kind.commandName)\n")
            return
        }
        let rows = credentials.map { [$0.name, $0.createdAt.rfc3339, $0.revokedAt?.rfc3339 ?? "-"] }
        for line in TextTable(headers: ["NAME", "CREATED", "REVOKED"], rows: rows).lines(width: nil) {
            print(line)
        }
    }
}

/// `agents revoke NAME`, `readers revoke NAME`: the token (and an agent's certificate) stops working.
struct RevokeCredentialCommand<Kind: CredentialKind>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "revoke",
            abstract: Kind.role == .agent
                ? "Revoke an agent: its token and its client certificate stop working."
                : "Revoke a reader's token.",
            discussion: "A running collector stops accepting it within 10 seconds (its credential cache)."
        )
    }

    @Argument(help: "The name.")
    var name: String

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        try await withStore(options, logger: commandLogger) { store in
            do {
                let found = try await store.credentials().first { $0.name == name && $0.role == Kind.role }
                guard let found else { throw CommandFailure.failure("no \(Kind.noun) named \"\(name)\"") }
                if let revoked = found.revokedAt {
                    StandardError.write(
                        "execwatch-collector: \(Kind.noun) \"\(name)\" was revoked already at \(revoked.rfc3339)\n"
                    )
                    return
                }
                _ = try await store.revokeCredential(name: name, role: Kind.role, at: .now)
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                throw CommandFailure.failure("cannot revoke \(Kind.noun) \"\(name)\": \(error)")
            }
            print("\(Kind.title) \"\(name)\" revoked.")
        }
    }
}

/// "an agent", "a reader".
private func article(_ noun: String) -> String {
    (noun.first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + noun
}
