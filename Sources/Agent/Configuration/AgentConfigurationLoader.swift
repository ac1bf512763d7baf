import ConfigurationFiles
import Forwarding

/// Reads ``AgentConfiguration`` from YAML and `EXECWATCH_…` variables.
///
/// Every key has a default, so an empty file (or none) works. Keys are nested YAML mappings
/// (`audit: {backlogLimit: 8192}`) or dotted (`audit.backlogLimit: 8192`); the variable for
/// `audit.backlogLimit` is `EXECWATCH_AUDIT_BACKLOG_LIMIT`. An unknown key or a value of the wrong
/// kind is an error naming the file, line and column: a typo in a security agent's configuration
/// must not silently leave a default in force.
public enum AgentConfigurationLoader {
    typealias Setting = ConfigurationFiles.Setting<AgentConfiguration>

    static let settings: [Setting] = [
        Setting("hostName") { c, v in c.hostName = try nonEmpty(v) },
        Setting("agentId") { c, v in c.agentId = try nonEmpty(v) },
        Setting("source") { c, v in c.source = try AgentConfiguration.SourceChoice.named(v) },
        Setting("stateDir") { c, v in c.stateDirectory = try absolutePath(v) },
        Setting(
            list: "rules",
            reset: { $0.rulePaths = [] },
            apply: { c, v in c.rulePaths.append(try absolutePath(v)) }
        ),
        Setting("user") { c, v in c.user = try nonEmpty(v) },
        Setting("audit.key") { c, v in
            guard !v.isEmpty, v.utf8.count <= 31, v.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw SettingError(message: "an audit key is 1 to 31 ASCII characters without spaces, got \"\(v)\"")
            }
            c.auditKey = v
        },
        Setting("audit.backlogLimit") { c, v in c.auditBacklogLimit = try number(v, in: 64...1 << 24) },
        Setting("audit.backlogWaitTime") { c, v in c.auditBacklogWaitTime = try number(v, in: 0...600_000) },
        Setting("ebpf.ringBufferBytes") { c, v in
            let size = try SettingValue.byteSize(v, in: 4096...1 << 30)
            guard size & (size - 1) == 0 else {
                throw SettingError(message: "the ring buffer size must be a power of two (e.g. 2MiB), got \"\(v)\"")
            }
            c.ebpfRingBufferBytes = size
        },
        Setting("ebpf.btfPath") { c, v in c.ebpfBTFPath = try absolutePath(v) },
        Setting("procPoll.intervalMilliseconds") { c, v in
            c.procPollIntervalMilliseconds = try number(v, in: 10...3_600_000)
        },
        Setting("reassembly.graceMilliseconds") { c, v in c.graceMilliseconds = try number(v, in: 0...600_000) },
        Setting("reassembly.maxBytes") { c, v in
            c.reassemblyMaxBytes = try SettingValue.byteSize(v, in: 1 << 20...1 << 40)
        },
        Setting("engine.maxGroups") { c, v in c.maxLiveGroups = try number(v, in: 1...100_000_000) },
        Setting("engine.maxIncidents") { c, v in c.maxIncidents = try number(v, in: 1...100_000_000) },
        Setting("engine.maxBytes") { c, v in c.engineMaxBytes = try SettingValue.byteSize(v, in: 1 << 20...1 << 40) },
        Setting("outbox.maxDepth") { c, v in c.outboxMaxDepth = try number(v, in: 1...100_000_000) },
        Setting("status.socket") { c, v in c.statusSocket = try absolutePath(v) },
        Setting("metrics.listen") { c, v in
            if v == "off" || v == "false" || v.isEmpty {
                c.metricsListen = nil
                return
            }
            guard (try? SettingValue.hostAndPort(v)) != nil else {
                throw SettingError(message: "expected host:port or off, got \"\(v)\"")
            }
            c.metricsListen = v
        },
        Setting("forward.url") { c, v in
            guard v.hasPrefix("https://") || v.hasPrefix("http://") else {
                throw SettingError(message: "expected an https:// URL, got \"\(v)\"")
            }
            c.forward.url = v
        },
        Setting("forward.caFile") { c, v in c.forward.caFile = try absolutePath(v) },
        Setting("forward.certFile") { c, v in c.forward.certFile = try absolutePath(v) },
        Setting("forward.keyFile") { c, v in c.forward.keyFile = try absolutePath(v) },
        Setting("forward.tokenFile") { c, v in c.forward.tokenFile = try absolutePath(v) },
        Setting("forward.batchMaxIncidents") { c, v in c.forward.batchMaxIncidents = try number(v, in: 1...10_000) },
        Setting("forward.batchMaxMilliseconds") { c, v in c.forward.batchMaxMilliseconds = try number(v, in: 0...60_000)
        },
        Setting("forward.connectTimeoutMilliseconds") { c, v in
            c.forward.connectTimeoutMilliseconds = try number(v, in: 100...600_000)
        },
        Setting("forward.requestTimeoutMilliseconds") { c, v in
            c.forward.requestTimeoutMilliseconds = try number(v, in: 100...3_600_000)
        },
        Setting("forward.maxBackoffMilliseconds") { c, v in
            c.forward.maxBackoffMilliseconds = try number(v, in: 250...3_600_000)
        },
        Setting("forward.gzip") { c, v in c.forward.gzip = try SettingValue.boolean(v) },
    ]

    static let file = SettingsFile(settings: settings, environmentPrefix: "EXECWATCH_")

    /// Reads the YAML text of `file` (its name is used in errors) onto `base`.
    public static func load(
        yaml: String,
        file: String,
        onto base: AgentConfiguration = AgentConfiguration()
    ) throws(ConfigurationError) -> AgentConfiguration {
        let configuration = try Self.file.load(yaml: yaml, file: file, onto: base)
        try check(configuration, location: file)
        return configuration
    }

    /// Applies `EXECWATCH_…` variables (`EXECWATCH_AUDIT_BACKLOG_LIMIT` for `audit.backlogLimit`;
    /// `EXECWATCH_RULES` takes paths separated by `:`).
    public static func applyEnvironment(
        _ environment: [String: String],
        to configuration: inout AgentConfiguration
    ) throws(ConfigurationError) {
        try file.applyEnvironment(environment, to: &configuration)
        try check(configuration, location: "environment")
    }

    /// `audit.backlogLimit` → `EXECWATCH_AUDIT_BACKLOG_LIMIT`.
    public static func environmentName(of key: String) -> String {
        file.environmentName(of: key)
    }

    /// Rules that span keys: a client certificate needs its key; forwarding options need a URL.
    static func check(_ configuration: AgentConfiguration, location: String) throws(ConfigurationError) {
        let forward = configuration.forward
        if (forward.certFile == nil) != (forward.keyFile == nil) {
            throw ConfigurationError(
                location: location,
                message: "forward.certFile and forward.keyFile go together (mutual TLS needs both)"
            )
        }
        if forward.url.isEmpty, forward.caFile != nil || forward.certFile != nil || forward.tokenFile != nil {
            throw ConfigurationError(location: location, message: "forward.* options are set but forward.url is not")
        }
    }

    private static func nonEmpty(_ value: String) throws(SettingError) -> String {
        try SettingValue.nonEmpty(value)
    }

    private static func absolutePath(_ value: String) throws(SettingError) -> String {
        try SettingValue.absolutePath(value)
    }

    private static func number(_ value: String, in range: ClosedRange<Int>) throws(SettingError) -> Int {
        try SettingValue.number(value, in: range)
    }
}
