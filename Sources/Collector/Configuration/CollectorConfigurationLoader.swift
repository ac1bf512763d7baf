import ConfigurationFiles

/// Reads ``CollectorConfiguration`` from YAML and `EXECWATCH_COLLECTOR_…` variables.
///
/// Every key has a default, so an empty file (or none) works. Keys are nested YAML mappings
/// (`tls: {certFile: /etc/…}`) or dotted (`tls.certFile: /etc/…`); the variable for `tls.certFile`
/// is `EXECWATCH_COLLECTOR_TLS_CERT_FILE`. An unknown key or a value of the wrong kind is an error
/// naming the file, line and column; rules spanning keys are checked once everything is read.
public enum CollectorConfigurationLoader {
    typealias Setting = ConfigurationFiles.Setting<CollectorConfiguration>

    /// Read when `--config` is not given, if it exists.
    public static let defaultPath = "/etc/execwatch/collector.yaml"
    public static let environmentPrefix = "EXECWATCH_COLLECTOR_"

    static let settings: [Setting] = [
        Setting("listen") { c, v in c.listen = try ListenAddress(parsing: v) },
        Setting("tls.certFile") { c, v in c.tls.certFile = try optionalPath(v) },
        Setting("tls.keyFile") { c, v in c.tls.keyFile = try optionalPath(v) },
        Setting("tls.clientCAFile") { c, v in c.tls.clientCAFile = try optionalPath(v) },
        Setting("tls.clientAuth") { c, v in c.tls.clientAuth = try choice(v) },
        Setting("storage.url") { c, v in
            guard v.isEmpty || v.hasPrefix("/") || v.hasPrefix("postgres://") || v.hasPrefix("postgresql://") else {
                throw SettingError(
                    message: "expected empty (SQLite in stateDir), an absolute path or a postgres:// URL, got \"\(v)\""
                )
            }
            c.storageURL = v
        },
        Setting("stateDir") { c, v in c.stateDirectory = try SettingValue.absolutePath(v) },
        Setting("limits.maxBodyBytes") { c, v in c.limits.maxBodyBytes = try SettingValue.number(v, in: 1024...1 << 30)
        },
        Setting("limits.maxStringBytes") { c, v in
            c.limits.maxStringBytes = try SettingValue.number(v, in: 16...1 << 30)
        },
        Setting("web.auth") { c, v in c.webAuth = try choice(v) },
    ]

    static let file = SettingsFile(settings: settings, environmentPrefix: environmentPrefix)

    /// Reads `path` (nil: ``defaultPath`` if it exists, else all defaults), then the environment's
    /// `EXECWATCH_COLLECTOR_…` variables, then checks the rules that span keys.
    public static func load(
        path: String?,
        environment: [String: String]
    ) throws(ConfigurationError) -> CollectorConfiguration {
        let file = path ?? defaultPath
        let text = try ConfigurationFileReader.read(file, required: path != nil)
        return try load(yaml: text ?? "", file: file, environment: environment)
    }

    /// Reads the YAML text of `file` (its name is used in errors), then `environment`, then checks
    /// the rules that span keys.
    public static func load(
        yaml: String,
        file: String,
        environment: [String: String] = [:]
    ) throws(ConfigurationError) -> CollectorConfiguration {
        var configuration = try Self.file.load(yaml: yaml, file: file, onto: CollectorConfiguration())
        try Self.file.applyEnvironment(environment, to: &configuration)
        try check(configuration, location: file)
        return configuration
    }

    /// `tls.certFile` → `EXECWATCH_COLLECTOR_TLS_CERT_FILE`.
    public static func environmentName(of key: String) -> String {
        file.environmentName(of: key)
    }

    /// The keys a configuration file may hold.
    public static var keys: [String] { settings.map(\.key) }

    /// Rules that span keys: a certificate needs its key; client certificates need TLS and a CA;
    /// plain HTTP only on loopback.
    static func check(_ configuration: CollectorConfiguration, location: String) throws(ConfigurationError) {
        let tls = configuration.tls
        if (tls.certFile == nil) != (tls.keyFile == nil) {
            throw ConfigurationError(
                location: location,
                message: "tls.certFile and tls.keyFile go together (set both or neither)"
            )
        }
        if !tls.isEnabled, !configuration.listen.isLoopback {
            throw ConfigurationError(
                location: location,
                message: "tls.certFile and tls.keyFile are required to listen on \(configuration.listen)"
                    + " (plain HTTP is allowed on a loopback address only)"
            )
        }
        if tls.clientAuth != .off {
            if !tls.isEnabled {
                throw ConfigurationError(
                    location: location,
                    message: "tls.clientAuth \(tls.clientAuth.rawValue) needs tls.certFile and tls.keyFile"
                )
            }
            if tls.clientCAFile == nil {
                throw ConfigurationError(
                    location: location,
                    message: "tls.clientAuth \(tls.clientAuth.rawValue) needs tls.clientCAFile"
                        + " (the CA that signs agent certificates)"
                )
            }
        }
    }

    /// An absolute path; empty: unset.
    private static func optionalPath(_ value: String) throws(SettingError) -> String? {
        value.isEmpty ? nil : try SettingValue.absolutePath(value)
    }

    private static func choice<Choice: RawRepresentable & CaseIterable>(
        _ value: String
    ) throws(SettingError) -> Choice where Choice.RawValue == String {
        guard let choice = Choice(rawValue: value) else {
            let names = Choice.allCases.map { "\($0.rawValue)" }.joined(separator: ", ")
            throw SettingError(message: "unknown value \"\(value)\"; expected one of \(names)")
        }
        return choice
    }
}
