import AuditRecords
import ConfigurationFiles
import EBPFCapture
import Forwarding
import RuleEngine

/// Everything `execwatch run` can be told, with the defaults an empty configuration file gets.
///
/// Read from YAML (``AgentConfigurationLoader``), then overridden by `EXECWATCH_…` environment
/// variables, then by command-line options.
public struct AgentConfiguration: Sendable, Equatable {
    /// Where executions come from.
    public enum SourceChoice: String, Sendable, CaseIterable {
        case auto
        case ebpf
        case auditUnicast = "audit-unicast"
        case auditMulticast = "audit-multicast"
        case audisp
        case procConnector = "proc-connector"
        case procPoll = "proc-poll"

        /// The choice called `name`; an unknown name is an error listing the valid ones.
        public static func named(_ name: String) throws(SettingError) -> SourceChoice {
            guard let choice = SourceChoice(rawValue: name) else {
                let names = allCases.map(\.rawValue).joined(separator: ", ")
                throw SettingError(message: "unknown source \"\(name)\"; expected one of \(names)")
            }
            return choice
        }
    }

    /// `hostName` of every event; nil: this host's name.
    public var hostName: String?
    /// `agentId` of every incident; nil: generated once and kept in the state directory.
    public var agentId: String?
    public var source: SourceChoice = .auto
    /// The journal and the agent id live here.
    public var stateDirectory = "/var/lib/execwatch"
    /// Rule files or directories; empty: the shipped rules and `/etc/execwatch/rules.d`.
    public var rulePaths: [String] = []
    /// After the capture sockets are open, switch to this user (nil: stay).
    public var user: String?

    /// The key tagging the agent's own audit rules.
    public var auditKey = "execwatch"
    /// The kernel's audit backlog limit while the agent owns audit.
    public var auditBacklogLimit = 8192
    /// How long (in jiffies) audited programs may wait when the backlog is full; 0: never.
    public var auditBacklogWaitTime = 0

    /// The eBPF source's ring buffer (a power of two).
    public var ebpfRingBufferBytes = EBPFSource.defaultRingBufferBytes
    /// The kernel BTF the eBPF probe is loaded against; nil: the running kernel's.
    public var ebpfBTFPath: String?

    public var procPollIntervalMilliseconds = 1000
    /// Event-time grace before an audit event without EOE is taken as complete.
    public var graceMilliseconds = 2000
    /// Most bytes the reassembler's open audit events may hold (oldest completed early beyond it).
    public var reassemblyMaxBytes = AuditEventAssembler.defaultMaximumBytes
    public var maxLiveGroups = 100_000
    public var maxIncidents = 10_000
    /// Most bytes the engine's windows and incidents may hold (least recently used evicted beyond it).
    public var engineMaxBytes = EngineConfiguration.defaultMaxBytes
    /// Most incident changes kept for the forwarder; beyond it the oldest updates are dropped
    /// first, first occurrences only when no update is left (counted, shown by status).
    public var outboxMaxDepth = 100_000

    /// The Unix socket `execwatch status` asks.
    public var statusSocket = "/run/execwatch/agent.sock"
    /// `host:port` of the Prometheus endpoint; nil: off.
    public var metricsListen: String? = "127.0.0.1:9466"

    /// Forwarding to a collector; `forward.url` empty: not forwarding (the outbox is kept).
    public var forward = ForwardConfiguration(url: "")

    public init() {}
}
