import AuditCapture
import Capture
import EBPFCapture
import ExecEvents
import Logging
import ProcCapture

#if canImport(Glibc)
import Glibc
#endif

/// Builds the capture source a configuration asks for; for `auto`, the first that works in the
/// order DESIGN.md gives (eBPF, audisp plugin, audit multicast, audit unicast, proc connector,
/// /proc polling) and is seen delivering the agent's own probe exec, with the reason in words.
public enum AgentSources {
    /// - Parameter whenSetUp: run on the capture thread once the source's sockets are open, its
    ///   audit changes made or its first /proc scan done (the audit, eBPF, proc connector and
    ///   polling sources call it; for the audisp plugin the runtime calls it first).
    ///   The audit sources write down the audit state they find in `state` (see ``AuditStateFile``).
    public static func select(
        _ configuration: AgentConfiguration,
        state: AgentStateDirectory,
        logger: Logger,
        whenSetUp: @escaping @Sendable () -> Void
    ) throws -> ChosenSource {
        let hostName = configuration.hostName ?? LocalHost.name
        let snapshots = ProcessSnapshotReader.Configuration(hostName: hostName)
        func audit(_ mode: AuditNetlinkSource.Mode, _ whenSetUp: @escaping @Sendable () -> Void) -> AuditNetlinkSource {
            var settings = AuditNetlinkSource.Configuration(mode: mode, ruleKey: configuration.auditKey)
            settings.backlogLimit = UInt32(configuration.auditBacklogLimit)
            settings.backlogWaitTime = UInt32(configuration.auditBacklogWaitTime)
            settings.whenSetUp = whenSetUp
            settings.stateRecord = state.auditState
            settings.leftoverStateHandled = { logger.notice("\($0)") }
            settings.othersChangedAudit = { logger.warning("\($0)") }
            return AuditNetlinkSource(configuration: settings)
        }
        let pollPeriod = Duration.milliseconds(configuration.procPollIntervalMilliseconds)
        func poll(_ whenSetUp: @escaping @Sendable () -> Void) -> ProcPollSource {
            ProcPollSource(period: pollPeriod, snapshotConfiguration: snapshots, whenSetUp: whenSetUp)
        }
        func connector(_ whenSetUp: @escaping @Sendable () -> Void) -> ProcConnectorSource {
            ProcConnectorSource(snapshotConfiguration: snapshots, whenSetUp: whenSetUp)
        }
        /// The eBPF source as chosen (it reports its own set-up, once the probe is attached).
        func ebpf(_ whenSetUp: @escaping @Sendable () -> Void, reason: String) -> ChosenSource {
            let source = EBPFSource(
                configuration: EBPFSource.Configuration(
                    hostName: hostName,
                    ringBufferBytes: configuration.ebpfRingBufferBytes,
                    btfPath: configuration.ebpfBTFPath,
                    whenSetUp: whenSetUp
                )
            )
            return ChosenSource(source: source, reason: reason, limitations: source.limitation, callsWhenSetUp: true)
        }
        switch configuration.source {
        case .ebpf:
            return ebpf(whenSetUp, reason: "asked for (--source ebpf)")
        case .auditUnicast:
            return ChosenSource(
                source: audit(.unicast, whenSetUp),
                reason: "asked for (--source audit-unicast)",
                callsWhenSetUp: true
            )
        case .auditMulticast:
            return ChosenSource(
                source: audit(.multicast, whenSetUp),
                reason: "asked for (--source audit-multicast)",
                callsWhenSetUp: true
            )
        case .audisp: return ChosenSource(source: AudispSource(), reason: "asked for (--source audisp)")
        case .procConnector:
            let connector = connector(whenSetUp)
            return ChosenSource(
                source: connector,
                reason: "asked for (--source proc-connector)",
                limitations: connector.limitation,
                callsWhenSetUp: true
            )
        case .procPoll:
            let poll = poll(whenSetUp)
            return ChosenSource(
                source: poll,
                reason: "asked for (--source proc-poll)",
                limitations: poll.limitation,
                callsWhenSetUp: true
            )
        case .auto:
            // eBPF first: it costs the host's other system calls nothing. Its trial run loads the
            // probe, so a kernel without BTF, missing capabilities or a verifier refusal is the
            // reason it is passed over.
            var candidates: [Candidate] = [
                Candidate {
                    ebpf($0, reason: "auto: the eBPF probe loads (kernel BTF, CAP_BPF and CAP_PERFMON) and delivers")
                }
            ]
            let why = AuditAvailability.probe(ruleKey: configuration.auditKey).recommendation
            switch why.source {
            case .audisp:
                // Started by auditd as its plugin: the site chose audit, and auditd's records on
                // standard input must be read, so before eBPF. Not tried first: a trial run would
                // consume them.
                let reason = "auto: \(why.reason)"
                candidates.insert(
                    Candidate(verify: false) { _ in ChosenSource(source: AudispSource(), reason: reason) },
                    at: 0
                )
            case .auditMulticast, .auditUnicast:
                let mode: AuditNetlinkSource.Mode = why.source == .auditMulticast ? .multicast : .unicast
                candidates.append(
                    Candidate {
                        ChosenSource(source: audit(mode, $0), reason: "auto: \(why.reason)", callsWhenSetUp: true)
                    }
                )
            case nil:
                break
            }
            let noAudit = why.source == nil ? "no audit source (\(why.reason)); " : ""
            if procConnectorAvailable() {
                let outside = LinuxProcess.nonInitialNamespace()
                candidates.append(
                    Candidate(
                        whenSilent: outside.map {
                            "this process is not in the host's initial \($0) namespace (a container), whose listen request the kernel ignores"
                        }
                    ) {
                        let connector = connector($0)
                        return ChosenSource(
                            source: connector,
                            reason: "auto: \(noAudit)the proc connector delivers",
                            limitations: connector.limitation,
                            callsWhenSetUp: true
                        )
                    }
                )
            }
            candidates.append(
                Candidate(bound: .seconds(2) + pollPeriod * 2) {
                    let poll = poll($0)
                    return ChosenSource(
                        source: poll,
                        reason: "auto: \(noAudit)polling /proc",
                        limitations: poll.limitation,
                        callsWhenSetUp: true
                    )
                }
            )
            return try firstDelivering(candidates, whenSetUp: whenSetUp, logger: logger)
        }
    }

    /// A source `auto` may use: how to make one (calling the given `whenSetUp` if it sets up
    /// itself), and how it is checked first.
    struct Candidate {
        /// Whether a trial run must show the probe's exec before the source is used.
        var verify = true
        /// How long the trial waits for the probe's exec.
        var bound: Duration = .seconds(2)
        /// The known cause, said when the source sets up but delivers nothing.
        var whenSilent: String? = nil
        var make: (_ whenSetUp: @escaping @Sendable () -> Void) -> ChosenSource
    }

    /// The first candidate a trial run shows delivering (see ``DeliveryCheck``), made afresh for
    /// the real run; the ones passed over are logged and named in its reason. Fails when none does.
    static func firstDelivering(
        _ candidates: [Candidate],
        whenSetUp: @escaping @Sendable () -> Void,
        logger: Logger
    ) throws(CaptureError) -> ChosenSource {
        var passedOver: [String] = []
        for candidate in candidates {
            if candidate.verify {
                let setUp = DeliveryCheck.SetUpLatch()
                let trial = candidate.make({ setUp.open() })
                let said: String
                switch DeliveryCheck.verify(
                    trial.source,
                    within: candidate.bound,
                    setUp: trial.callsWhenSetUp ? setUp : nil
                ) {
                case .delivered:
                    said = ""
                case .unverified(let why):
                    logger.warning("source \(trial.source.name) not checked (\(why)); using it unchecked")
                    said = ""
                case .silent(let why):
                    said =
                        "\(trial.source.name) delivers no executions: \(why)"
                        + (candidate.whenSilent.map { "; \($0)" } ?? "")
                case .failed(let error):
                    said = "\(trial.source.name) cannot be used: \(error)"
                }
                if !said.isEmpty {
                    logger.warning("source \(said)")
                    passedOver.append(said)
                    continue
                }
            }
            var chosen = candidate.make(whenSetUp)
            if !passedOver.isEmpty { chosen.reason += " (passed over: \(passedOver.joined(separator: "; ")))" }
            return chosen
        }
        throw CaptureError(
            operation: "choosing a capture source",
            errno: 0,
            detail: "no source delivers executions here: \(passedOver.joined(separator: "; "))"
        )
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
