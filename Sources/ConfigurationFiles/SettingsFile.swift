import YAML

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

/// Why a value cannot be used for a setting; the loader adds where it came from.
public struct SettingError: Error, Sendable {
    public var message: String

    public init(message: String) { self.message = message }

    /// The message of any error a setting throws.
    static func message(of error: any Error) -> String {
        (error as? SettingError)?.message ?? "\(error)"
    }
}

/// One setting of a configuration: its dotted key and how a text value applies to it.
public struct Setting<Configuration>: Sendable {
    public var key: String
    /// A list key (`rules: [a, b]`): every item applies in turn, and the first list read
    /// replaces the default.
    public var isList: Bool
    public var apply: @Sendable (inout Configuration, String) throws -> Void
    /// Empties the list before a list value replaces it.
    public var reset: (@Sendable (inout Configuration) -> Void)?

    public init(
        _ key: String,
        apply: @escaping @Sendable (inout Configuration, String) throws -> Void
    ) {
        self.key = key
        self.isList = false
        self.apply = apply
        self.reset = nil
    }

    public init(
        list key: String,
        reset: @escaping @Sendable (inout Configuration) -> Void,
        apply: @escaping @Sendable (inout Configuration, String) throws -> Void
    ) {
        self.key = key
        self.isList = true
        self.apply = apply
        self.reset = reset
    }
}

/// Reads a configuration from YAML (through ``YAMLReader``) and environment variables through a
/// table of ``Setting``s.
///
/// Every key has a default, so an empty file works. Keys are nested YAML mappings
/// (`audit: {backlogLimit: 8192}`) or dotted (`audit.backlogLimit: 8192`); the variable for
/// `audit.backlogLimit` is `<PREFIX>AUDIT_BACKLOG_LIMIT`. An unknown key or a value of the wrong
/// kind is an error naming the file, line and column: a typo in a security product's
/// configuration must not silently leave a default in force.
public struct SettingsFile<Configuration>: Sendable {
    public let settings: [Setting<Configuration>]
    /// Prefix of the environment variables, e.g. `EXECWATCH_`.
    public let environmentPrefix: String
    private let settingsByKey: [String: Setting<Configuration>]

    public init(settings: [Setting<Configuration>], environmentPrefix: String) {
        self.settings = settings
        self.environmentPrefix = environmentPrefix
        self.settingsByKey = Dictionary(uniqueKeysWithValues: settings.map { ($0.key, $0) })
    }

    /// Reads the YAML text of `file` (its name is used in errors) onto `base`: one document, a
    /// mapping (or nothing: all defaults).
    public func load(yaml: String, file: String, onto base: Configuration) throws(ConfigurationError) -> Configuration {
        var configuration = base
        let documents: [YAMLNode]
        do {
            documents = try YAMLReader.documents(in: Array(yaml.utf8))
        } catch {
            throw ConfigurationError(location: position(file, error.mark), message: "not valid YAML: \(error.message)")
        }
        guard documents.count <= 1 else {
            throw ConfigurationError(
                location: position(file, documents[1].mark),
                message: "expected one YAML document, found \(documents.count)"
            )
        }
        guard let root = documents.first else { return configuration }  // an empty file: all defaults
        if case .scalar(let scalar) = root, scalar.isNull { return configuration }  // a lone `---`
        guard case .mapping(let entries, _) = root else {
            throw ConfigurationError(
                location: position(file, root.mark),
                message: "expected a mapping of keys to values"
            )
        }
        var listsReplaced: Set<String> = []
        try apply(entries, prefix: "", file: file, to: &configuration, listsReplaced: &listsReplaced)
        return configuration
    }

    private func apply(
        _ entries: [YAMLMapEntry],
        prefix: String,
        file: String,
        to configuration: inout Configuration,
        listsReplaced: inout Set<String>
    ) throws(ConfigurationError) {
        for entry in entries {
            guard case .scalar(let keyScalar) = entry.key else {  // YAMLReader refuses collections as keys
                throw ConfigurationError(location: position(file, entry.key.mark), message: "expected a key")
            }
            let key = prefix.isEmpty ? keyScalar.value : prefix + "." + keyScalar.value
            if case .mapping(let nested, _) = entry.value {
                guard settings.contains(where: { $0.key.hasPrefix(key + ".") }) else {
                    throw unknownKey(key, at: position(file, keyScalar.mark))
                }
                try apply(nested, prefix: key, file: file, to: &configuration, listsReplaced: &listsReplaced)
                continue
            }
            guard let setting = settingsByKey[key] else { throw unknownKey(key, at: position(file, keyScalar.mark)) }
            var values: [YAMLNode] = []
            switch entry.value {
            case .scalar: values = [entry.value]
            case .sequence(let items, _) where setting.isList: values = items
            default:
                throw ConfigurationError(
                    location: position(file, entry.value.mark),
                    message: "\(key): expected a single value"
                )
            }
            if setting.isList, !listsReplaced.contains(key) {
                setting.reset?(&configuration)
                listsReplaced.insert(key)
            }
            for value in values {
                guard case .scalar(let scalar) = value else {
                    throw ConfigurationError(
                        location: position(file, value.mark),
                        message: "\(key): expected a single value"
                    )
                }
                do {
                    try setting.apply(&configuration, scalar.value)
                } catch {
                    throw ConfigurationError(
                        location: position(file, scalar.mark),
                        message: "\(key): \(SettingError.message(of: error))"
                    )
                }
            }
        }
    }

    /// Applies the environment's variables (`<PREFIX>AUDIT_BACKLOG_LIMIT` for
    /// `audit.backlogLimit`; a list key takes values separated by `:`).
    public func applyEnvironment(
        _ environment: [String: String],
        to configuration: inout Configuration
    ) throws(ConfigurationError) {
        for setting in settings {
            let name = environmentName(of: setting.key)
            guard let value = environment[name] else { continue }
            let values = setting.isList ? value.split(separator: ":").map(String.init) : [value]
            setting.reset?(&configuration)
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

    /// `audit.backlogLimit` → `<PREFIX>AUDIT_BACKLOG_LIMIT`; an acronym is one word
    /// (`tls.clientCAFile` → `<PREFIX>TLS_CLIENT_CA_FILE`).
    public func environmentName(of key: String) -> String {
        var name = environmentPrefix
        let characters = Array(key)
        for (index, character) in characters.enumerated() {
            if character == "." {
                name.append("_")
                continue
            }
            if character.isUppercase, index > 0 {
                let previous = characters[index - 1]
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                if previous.isLowercase || (previous.isUppercase && next?.isLowercase == true) {
                    name.append("_")
                }
            }
            name.append(contentsOf: character.uppercased())
        }
        return name
    }

    /// An unknown key: "did you mean" the nearest known key or section when one is close, then
    /// every known key.
    private func unknownKey(_ key: String, at location: String) -> ConfigurationError {
        let keys = settings.map(\.key)
        var sections: [String] = []
        for known in keys {
            var parts = known.split(separator: ".").dropLast()
            while !parts.isEmpty {
                sections.append(parts.joined(separator: "."))
                parts = parts.dropLast()
            }
        }
        let suggestion = KeySuggestion.nearest(to: key, among: keys + sections).map { "did you mean \"\($0)\"? " }
        return ConfigurationError(
            location: location,
            message: "unknown key \"\(key)\"; \(suggestion ?? "")known keys: \(keys.joined(separator: ", "))"
        )
    }

    private func position(_ file: String, _ mark: YAMLMark) -> String {
        "\(file):\(mark.line):\(mark.column)"
    }
}

/// Value checks settings share; each throws a ``SettingError`` saying what was expected.
public enum SettingValue {
    public static func nonEmpty(_ value: String) throws(SettingError) -> String {
        guard !value.isEmpty else { throw SettingError(message: "must not be empty") }
        return value
    }

    public static func absolutePath(_ value: String) throws(SettingError) -> String {
        guard value.hasPrefix("/") else { throw SettingError(message: "expected an absolute path, got \"\(value)\"") }
        return value
    }

    public static func number(_ value: String, in range: ClosedRange<Int>) throws(SettingError) -> Int {
        guard let number = Int(value.filter { $0 != "_" }) else {
            throw SettingError(message: "expected a whole number, got \"\(value)\"")
        }
        guard range.contains(number) else {
            throw SettingError(message: "\(number) is out of range \(range.lowerBound)…\(range.upperBound)")
        }
        return number
    }

    public static func boolean(_ value: String) throws(SettingError) -> Bool {
        switch value.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw SettingError(message: "expected true or false, got \"\(value)\"")
        }
    }

    /// `host:port` (`[::1]:8443` for IPv6); returns host and port.
    public static func hostAndPort(_ value: String) throws(SettingError) -> (host: String, port: Int) {
        guard let colon = value.lastIndex(of: ":"),
            let port = Int(value[value.index(after: colon)...]), (0...65535).contains(port)
        else { throw SettingError(message: "expected host:port, got \"\(value)\"") }
        var host = String(value[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw SettingError(message: "expected host:port, got \"\(value)\"") }
        return (host, port)
    }
}
