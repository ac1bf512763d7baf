import CLibcap
import Capture
import ConfigurationFiles
import ExecEvents
import Forwarding
import Logging
import ProcCapture
import RuleEngine
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// `execwatch run`: sets the parts up and runs them as services (``AgentServices``) until SIGTERM
/// or SIGINT.
///
/// The capture source runs on a thread of its own and feeds the ``DetectionPipeline``
/// synchronously; incident changes cross to the ``JournalWriter`` task; the ``StatusServer``
/// answers on its thread. SIGHUP reloads the rules (windows of unchanged rules are kept).
/// On stop the source undoes what it changed on the host, open events are completed, and every
/// queued incident change is stored before the journal is closed.
public final class AgentRuntime: Sendable {
    public let configuration: AgentConfiguration
    private let logger: Logger

    public init(configuration: AgentConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Opens the journal in the (checked) state directory (the real one, or a test double).
    public typealias StoreOpener =
        @Sendable (_ state: AgentStateDirectory) async throws -> any IncidentStore & ClosableStore

    /// Caps glibc's malloc arenas (one per thread by default, each holding on to freed memory):
    /// the daemon's threads do little allocation, and resident memory is what hosts pay for.
    /// Call before other threads allocate.
    public static func limitMallocArenas(_ arenas: Int32 = 2) {
        _ = mallopt(EXECWATCH_M_ARENA_MAX, arenas)
    }

    /// Runs until stopped; returns the exit status.
    public func run(openStore: StoreOpener, selectSource: SourceSelector) async throws -> Int32 {
        // The user is looked up first: the state directory may already be theirs (handed over
        // at an earlier start), and then its ownership is trusted.
        let user = try configuration.user.map { name throws(CaptureError) in try PrivilegeDrop.User(named: name) }
        let state = try AgentStateDirectory(path: configuration.stateDirectory, user: user)
        let lock = try state.lock()
        defer { close(lock) }
        let hostName = configuration.hostName ?? LocalHost.name
        let agentId = try configuration.agentId ?? state.agentId()

        let rules = try RuleSources.load(configuration.rulePaths, logger: logger)
        let engine = DetectionEngine(
            rules: rules,
            configuration: EngineConfiguration(
                agentId: agentId,
                maxLiveGroups: configuration.maxLiveGroups,
                maxIncidents: configuration.maxIncidents,
                maxBytes: configuration.engineMaxBytes,
                forgetsClosedGroups: true  // the journal continues what the engine forgot
            )
        )
        let store = try await openStore(state)
        do {
            return try await run(
                store: store,
                engine: engine,
                state: state,
                hostName: hostName,
                agentId: agentId,
                rules: rules,
                selectSource: selectSource
            )
        } catch {
            // Closed also when setting up fails, so the journal's connection never leaks.
            try? await store.close()
            throw error
        }
    }

    /// The agent with its journal open: restore, sources, privileges, forwarding, until stopped.
    private func run(
        store: any IncidentStore & ClosableStore,
        engine startingEngine: DetectionEngine,
        state: AgentStateDirectory,
        hostName: String,
        agentId: String,
        rules: [Rule],
        selectSource: SourceSelector
    ) async throws -> Int32 {
        var engine = startingEngine
        let restored = try await store.restorableIncidents()
        for incident in restored { engine.restore(incident) }
        logger.info(
            "journal open",
            metadata: ["path": "\(configuration.stateDirectory)", "incidents": "\(restored.count)"]
        )

        // Privileges: dropped on the capture thread once the source is set up (see CaptureSetUp).
        let setUp = try CaptureSetUp(user: state.user, logger: logger)
        try state.handOver()
        let counters = PipelineCounters()
        let writer = JournalWriter(
            outboxMaxDepth: configuration.outboxMaxDepth,
            dropped: { counters.incidentsDropped.count() }
        )
        // Forwarding: its files (CA, certificate, key, token) are read and checked now, before
        // the source is chosen (an audit source takes audit over) and before privileges go.
        let forwarder = try makeForwarder(store: store, writer: writer)
        // What starting up touched so far goes before the source's own memory (the eBPF ring)
        // comes in: the peak stays lower (the rest goes once the source is set up).
        StartupCodePages.release()
        let chosen = try selectSource(configuration, state, logger, setUp.sourceIsSetUp)
        setUp.use(chosen.source)
        logger.notice(
            "capturing executions",
            metadata: ["source": "\(chosen.source.name)", "why": "\(chosen.reason)"]
        )
        if let limitations = chosen.limitations { logger.warning("source limitation: \(limitations)") }

        let pipeline = DetectionPipeline(
            engine: engine,
            hostName: hostName,
            graceMilliseconds: Int64(configuration.graceMilliseconds),
            reassemblyMaxBytes: configuration.reassemblyMaxBytes,
            live: RunningProcessReader(),
            counters: counters,
            deliver: { writer.offer($0) }
        )
        // SIGHUP is trapped from here on (before the source runs, so `status --wait` then SIGHUP
        // cannot end the process); SIGTERM and SIGINT by the group as it starts.
        let reload = RulesReloadService(
            hangups: await UnixSignalsSequence(trapping: .sighup),
            rulePaths: configuration.rulePaths,
            rules: rules.count,
            pipeline: pipeline,
            logger: logger
        )
        let snapshot = StatusSnapshot(
            chosen: chosen,
            pipeline: counters,
            writer: writer,
            forwarder: forwarder,
            setUp: setUp,
            reload: reload,
            hostName: hostName,
            agentId: agentId,
            budgets: (engine: configuration.engineMaxBytes, reassembly: configuration.reassemblyMaxBytes)
        )
        // The servers listen now, before privileges are dropped; they serve once the group runs.
        let status = try ConnectionServerService(
            StatusServer(path: configuration.statusSocket, snapshot: snapshot.current),
            name: "status"
        )
        var metrics: ConnectionServerService<MetricsServer>?
        if let listen = configuration.metricsListen {
            // Detection goes on without metrics: a busy port is logged, not fatal.
            do {
                metrics = try ConnectionServerService(
                    MetricsServer(listen: listen, snapshot: snapshot.current),
                    name: "metrics"
                )
                logger.info("metrics served", metadata: ["url": "http://\(listen)/metrics"])
            } catch {
                logger.error("metrics not served: \(error)")
            }
        }

        let services = AgentServices(
            reload: reload,
            capture: CaptureService(chosen: chosen, pipeline: pipeline, setUp: setUp, logger: logger),
            journal: JournalWriterService(writer: writer, store: store, forwarder: forwarder, logger: logger),
            forwarder: forwarder.map { ForwarderService(forwarder: $0, store: store, logger: logger) },
            status: status,
            metrics: metrics
        )
        var failure: (any Error)?
        do {
            try await services.group(logger: logger).run()
        } catch {
            failure = error
        }
        try await store.close()
        guard let failure else {
            logger.notice("stopped", metadata: ["incidentsStored": "\(writer.stored.current)"])
            return 0
        }
        logger.error(failure is CaptureFailure ? "capture failed: \(failure)" : "stopped: \(failure)")
        return 1
    }
}

extension AgentRuntime {
    /// The forwarder for `forward.url`, or nil when the agent does not forward.
    private func makeForwarder(store: any IncidentStore, writer: JournalWriter) throws -> IncidentForwarder? {
        guard !configuration.forward.url.isEmpty else {
            logger.notice("not forwarding: forward.url is not set; incidents stay in the journal's outbox")
            return nil
        }
        guard let outbox = store as? any ForwardOutbox else {
            throw ConfigurationError(location: "forward.url", message: "this store has no outbox to forward from")
        }
        let forwarder = try IncidentForwarder(
            configuration: configuration.forward,
            outbox: ForwardingOutbox(outbox: outbox, store: store, writer: writer),
            logger: logger
        )
        logger.info("forwarding incidents", metadata: ["url": "\(configuration.forward.url)"])
        return forwarder
    }
}

/// A store that must be closed when the agent stops.
public protocol ClosableStore: Sendable {
    func close() async throws
}

/// The chosen source and why: `status` shows both.
public struct ChosenSource: Sendable {
    public var source: any CaptureSource
    public var reason: String
    public var limitations: String?
    /// The source calls `whenSetUp` itself (after opening its sockets); else the runtime calls it
    /// on the capture thread before running the source.
    public var callsWhenSetUp: Bool

    public init(source: any CaptureSource, reason: String, limitations: String? = nil, callsWhenSetUp: Bool = false) {
        self.source = source
        self.reason = reason
        self.limitations = limitations
        self.callsWhenSetUp = callsWhenSetUp
    }
}

/// Picks the capture source for a configuration (see ``AgentSources``); a source that reports its
/// own set-up (``ChosenSource/callsWhenSetUp``) calls `whenSetUp` on its capture thread once set up.
public typealias SourceSelector =
    @Sendable (AgentConfiguration, _ state: AgentStateDirectory, Logger, _ whenSetUp: @escaping @Sendable () -> Void)
    throws -> ChosenSource
