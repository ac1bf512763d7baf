/// A configuration that cannot be used: where (file and position, or variable) and why.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible, Sendable {
    public var location: String
    public var message: String
    public var description: String { "\(location): \(message)" }

    public init(location: String, message: String) {
        self.location = location
        self.message = message
    }
}

/// Reads ``AgentConfiguration`` from YAML and `EXECWATCH_…` variables.
///
/// Every key has a default, so an empty file (or none) works. Keys are nested YAML mappings
/// (`audit: {backlogLimit: 8192}`) or dotted (`audit.backlogLimit: 8192`); the variable for
/// `audit.backlogLimit` is `EXECWATCH_AUDIT_BACKLOG_LIMIT`. An unknown key or a value of the wrong
/// kind is an error naming the file, line and column: a typo in a security agent's configuration
/// must not silently leave a default in force.
public enum AgentConfigurationLoader {
    /// One setting: its dotted key and how a text value applies to the configuration.
    struct Setting: Sendable {
        var key: String
        var apply: @Sendable (inout AgentConfiguration, String) throws -> Void
    }

    struct SettingError: Error {
        var message: String

        /// The message of any error a setting throws.
        static func message(of error: any Error) -> String {
            (error as? SettingError)?.message ?? "\(error)"
        }
    }

    static let settings: [Setting] = [
        Setting(key: "hostName") { c, v in c.hostName = try nonEmpty(v) },
        Setting(key: "agentId") { c, v in c.agentId = try nonEmpty(v) },
        Setting(key: "source") { c, v in
            guard let choice = AgentConfiguration.SourceChoice(rawValue: v) else {
                let names = AgentConfiguration.SourceChoice.allCases.map(\.rawValue).joined(separator: ", ")
                throw SettingError(message: "unknown source \"\(v)\"; expected one of \(names)")
            }
            c.source = choice
        },
        Setting(key: "stateDir") { c, v in c.stateDirectory = try absolutePath(v) },
        Setting(key: "rules") { c, v in c.rulePaths.append(try absolutePath(v)) },
        Setting(key: "user") { c, v in c.user = try nonEmpty(v) },
        Setting(key: "audit.key") { c, v in
            guard !v.isEmpty, v.utf8.count <= 31, v.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw SettingError(message: "an audit key is 1 to 31 ASCII characters without spaces, got \"\(v)\"")
            }
            c.auditKey = v
        },
        Setting(key: "audit.backlogLimit") { c, v in c.auditBacklogLimit = try number(v, in: 64...1 << 24) },
        Setting(key: "audit.backlogWaitTime") { c, v in c.auditBacklogWaitTime = try number(v, in: 0...600_000) },
        Setting(key: "procPoll.intervalMilliseconds") { c, v in
            c.procPollIntervalMilliseconds = try number(v, in: 10...3_600_000)
        },
        Setting(key: "reassembly.graceMilliseconds") { c, v in c.graceMilliseconds = try number(v, in: 0...600_000) },
        Setting(key: "engine.maxGroups") { c, v in c.maxLiveGroups = try number(v, in: 1...100_000_000) },
        Setting(key: "engine.maxIncidents") { c, v in c.maxIncidents = try number(v, in: 1...100_000_000) },
        Setting(key: "outbox.maxDepth") { c, v in c.outboxMaxDepth = try number(v, in: 1...100_000_000) },
        Setting(key: "status.socket") { c, v in c.statusSocket = try absolutePath(v) },
        Setting(key: "metrics.listen") { c, v in
            if v == "off" || v == "false" || v.isEmpty {
                c.metricsListen = nil
                return
            }
            guard let colon = v.lastIndex(of: ":"),
                Int(v[v.index(after: colon)...]).map({ (1...65535).contains($0) }) == true
            else { throw SettingError(message: "expected host:port or off, got \"\(v)\"") }
            c.metricsListen = v
        },
    ]

    static let settingsByKey: [String: Setting] = Dictionary(uniqueKeysWithValues: settings.map { ($0.key, $0) })

    /// Reads the YAML text of `file` (its name is used in errors) onto `base`.
    public static func load(
        yaml: String,
        file: String,
        onto base: AgentConfiguration = AgentConfiguration()
    ) throws(ConfigurationError) -> AgentConfiguration {
        var configuration = base
        let root: ConfigurationYAML.Node?
        do {
            root = try ConfigurationYAML.parse(yaml)
        } catch {
            throw ConfigurationError(location: "\(file):\(error.mark)", message: "not valid YAML: \(error.message)")
        }
        guard let root else { return configuration }  // an empty file: all defaults
        guard case .mapping(let entries, _) = root else {
            throw ConfigurationError(
                location: position(file, root.mark),
                message: "expected a mapping of keys to values"
            )
        }
        var rulesReplaced = false
        try apply(entries, prefix: "", file: file, to: &configuration, rulesReplaced: &rulesReplaced)
        return configuration
    }

    private static func apply(
        _ entries: [ConfigurationYAML.Entry],
        prefix: String,
        file: String,
        to configuration: inout AgentConfiguration,
        rulesReplaced: inout Bool
    ) throws(ConfigurationError) {
        for entry in entries {
            let key = prefix.isEmpty ? entry.key : prefix + "." + entry.key
            if case .mapping(let nested, _) = entry.value {
                guard settings.contains(where: { $0.key.hasPrefix(key + ".") }) else {
                    throw unknownKey(key, at: position(file, entry.keyMark))
                }
                try apply(nested, prefix: key, file: file, to: &configuration, rulesReplaced: &rulesReplaced)
                continue
            }
            guard let setting = settingsByKey[key] else { throw unknownKey(key, at: position(file, entry.keyMark)) }
            var values: [ConfigurationYAML.Node] = []
            switch entry.value {
            case .scalar: values = [entry.value]
            case .sequence(let items, _) where key == "rules": values = items
            default:
                throw ConfigurationError(
                    location: position(file, entry.value.mark),
                    message: "\(key): expected a single value"
                )
            }
            if key == "rules", !rulesReplaced {
                configuration.rulePaths = []
                rulesReplaced = true
            }
            for value in values {
                guard case .scalar(let text, let mark) = value else {
                    throw ConfigurationError(
                        location: position(file, value.mark),
                        message: "\(key): expected a single value"
                    )
                }
                do {
                    try setting.apply(&configuration, text)
                } catch {
                    throw ConfigurationError(
                        location: position(file, mark),
                        message: "\(key): \(SettingError.message(of: error))"
                    )
                }
            }
        }
    }

    /// Applies `EXECWATCH_…` variables (`EXECWATCH_AUDIT_BACKLOG_LIMIT` for `audit.backlogLimit`;
    /// `EXECWATCH_RULES` takes paths separated by `:`).
    public static func applyEnvironment(
        _ environment: [String: String],
        to configuration: inout AgentConfiguration
    ) throws(ConfigurationError) {
        for setting in settings {
            let name = environmentName(of: setting.key)
            guard let value = environment[name] else { continue }
            let values = setting.key == "rules" ? value.split(separator: ":").map(String.init) : [value]
            if setting.key == "rules" { configuration.rulePaths = [] }
            for value in values {
                do {
                    try setting.apply(&configuration, value)
                } catch {
                    throw ConfigurationError(
                        location: "environment variable \(name)",
                        message: SettingError.message(of: error)
                    )
                }
            }
        }
    }

    /// `audit.backlogLimit` → `EXECWATCH_AUDIT_BACKLOG_LIMIT`.
    public static func environmentName(of key: String) -> String {
        var name = "EXECWATCH_"
        var previousWasLower = false
        for character in key {
            if character == "." {
                name.append("_")
                previousWasLower = false
            } else if character.isUppercase {
                if previousWasLower { name.append("_") }
                name.append(character)
                previousWasLower = false
            } else {
                name.append(contentsOf: character.uppercased())
                previousWasLower = true
            }
        }
        return name
    }

    private static func unknownKey(_ key: String, at location: String) -> ConfigurationError {
        ConfigurationError(
            location: location,
            message: "unknown key \"\(key)\"; known keys: \(settings.map(\.key).joined(separator: ", "))"
        )
    }

    private static func position(_ file: String, _ mark: ConfigurationYAML.Mark) -> String {
        "\(file):\(mark.line):\(mark.column)"
    }

    private static func nonEmpty(_ value: String) throws(SettingError) -> String {
        guard !value.isEmpty else { throw SettingError(message: "must not be empty") }
        return value
    }

    private static func absolutePath(_ value: String) throws(SettingError) -> String {
        guard value.hasPrefix("/") else { throw SettingError(message: "expected an absolute path, got \"\(value)\"") }
        return value
    }

    private static func number(_ value: String, in range: ClosedRange<Int>) throws(SettingError) -> Int {
        guard let number = Int(value.filter { $0 != "_" }) else {
            throw SettingError(message: "expected a whole number, got \"\(value)\"")
        }
        guard range.contains(number) else {
            throw SettingError(message: "\(number) is out of range \(range.lowerBound)…\(range.upperBound)")
        }
        return number
    }
}
