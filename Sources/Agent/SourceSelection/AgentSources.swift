import AuditCapture
import Capture
import ExecEvents
import Logging
import ProcCapture

#if canImport(Glibc)
import Glibc
#endif

/// Builds the capture source a configuration asks for; for `auto`, the first that works in the
/// order DESIGN.md gives (audisp plugin, audit multicast, audit unicast, proc connector, /proc
/// polling), with the reason in words.
public enum AgentSources {
    /// - Parameter whenSetUp: run on the capture thread once the source's sockets are open and its
    ///   audit changes made (the audit sources call it; for the others the runtime calls it first).
    ///   The audit sources write down the audit state they find in `state` (see ``AuditStateFile``).
    public static func select(
        _ configuration: AgentConfiguration,
        state: AgentStateDirectory,
        logger: Logger,
        whenSetUp: @escaping @Sendable () -> Void
    ) throws -> ChosenSource {
        let hostName = configuration.hostName ?? LocalHost.name
        let snapshots = ProcessSnapshotReader.Configuration(hostName: hostName)
        func audit(_ mode: AuditNetlinkSource.Mode) -> AuditNetlinkSource {
            var settings = AuditNetlinkSource.Configuration(mode: mode, ruleKey: configuration.auditKey)
            settings.backlogLimit = UInt32(configuration.auditBacklogLimit)
            settings.backlogWaitTime = UInt32(configuration.auditBacklogWaitTime)
            settings.whenSetUp = whenSetUp
            settings.stateRecord = state.auditState
            settings.leftoverStateHandled = { logger.notice("\($0)") }
            settings.othersChangedAudit = { logger.warning("\($0)") }
            return AuditNetlinkSource(configuration: settings)
        }
        let poll = ProcPollSource(
            period: .milliseconds(configuration.procPollIntervalMilliseconds),
            snapshotConfiguration: snapshots
        )
        switch configuration.source {
        case .auditUnicast:
            return ChosenSource(
                source: audit(.unicast),
                reason: "asked for (--source audit-unicast)",
                callsWhenSetUp: true
            )
        case .auditMulticast:
            return ChosenSource(
                source: audit(.multicast),
                reason: "asked for (--source audit-multicast)",
                callsWhenSetUp: true
            )
        case .audisp: return ChosenSource(source: AudispSource(), reason: "asked for (--source audisp)")
        case .procConnector:
            let connector = ProcConnectorSource(snapshotConfiguration: snapshots)
            return ChosenSource(
                source: connector,
                reason: "asked for (--source proc-connector)",
                limitations: connector.limitation
            )
        case .procPoll:
            return ChosenSource(source: poll, reason: "asked for (--source proc-poll)", limitations: poll.limitation)
        case .auto:
            let availability = AuditAvailability.probe(ruleKey: configuration.auditKey)
            let recommendation = availability.recommendation
            let why = recommendation.reason
            switch recommendation.source {
            case .audisp: return ChosenSource(source: AudispSource(), reason: "auto: \(why)")
            case .auditMulticast:
                return ChosenSource(source: audit(.multicast), reason: "auto: \(why)", callsWhenSetUp: true)
            case .auditUnicast:
                return ChosenSource(source: audit(.unicast), reason: "auto: \(why)", callsWhenSetUp: true)
            case nil:
                if procConnectorAvailable() {
                    let connector = ProcConnectorSource(snapshotConfiguration: snapshots)
                    return ChosenSource(
                        source: connector,
                        reason: "auto: no audit source (\(why)); the proc connector works",
                        limitations: connector.limitation
                    )
                }
                return ChosenSource(
                    source: poll,
                    reason: "auto: no audit source (\(why)) and no proc connector; polling /proc",
                    limitations: poll.limitation
                )
            }
        }
    }

    /// Whether the proc connector can be subscribed to (NETLINK_CONNECTOR, group CN_IDX_PROC;
    /// needs CAP_NET_ADMIN).
    static func procConnectorAvailable() -> Bool {
        let fd = socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 11)  // NETLINK_CONNECTOR
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // struct sockaddr_nl: family (u16), pad (u16), pid (u32), groups (u32).
        var address = [UInt8](repeating: 0, count: 12)
        address.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt16(AF_NETLINK), toByteOffset: 0, as: UInt16.self)
            raw.storeBytes(of: UInt32(1), toByteOffset: 8, as: UInt32.self)  // CN_IDX_PROC
        }
        return address.withUnsafeBytes { raw in
            bind(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count)) == 0
        }
    }
}
