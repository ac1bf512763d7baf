import CLibcap
import Capture
import ConfigurationFiles
import Dispatch
import ExecEvents
import Forwarding
import Logging
import ProcCapture
import RuleEngine
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `execwatch run`: puts the parts together and runs them until SIGTERM or SIGINT.
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

        // Privileges: dropped on the capture thread once the source is set up (see PrivilegeDrop).
        let user = state.user
        try state.handOver()
        let stopForFailure = Mutex<StopSignal?>(nil)
        let dropped = Mutex<Bool>(false)
        let captureThread = Atomic<Int32>(0)
        let sourceName = Mutex<String>("")
        let sourceRunning = Atomic<Bool>(false)
        let logger = self.logger
        let dropPrivileges: @Sendable () -> Void = {
            guard
                dropped.withLock({ done in
                    defer { done = true }
                    return !done
                })
            else { return }
            captureThread.store(gettid(), ordering: .relaxed)
            let keep = PrivilegeDrop.capabilities(forSource: sourceName.withLock { $0 })
            do {
                try PrivilegeDrop.apply(keep: keep, user: user)
                logger.info(
                    "privileges dropped",
                    metadata: ["kept": "\(keep.map(\.name))", "user": "\(user?.name ?? "root (unchanged)")"]
                )
            } catch {
                logger.critical("cannot drop privileges, stopping: \(error)")
                stopForFailure.withLock { $0?.signal() }
                return
            }
            sourceRunning.store(true, ordering: .releasing)
        }
        let pipelineCounters = Mutex<PipelineCounters?>(nil)
        let forwarderSlot = Mutex<IncidentForwarder?>(nil)
        let writer = JournalWriter(
            outboxMaxDepth: configuration.outboxMaxDepth,
            dropped: { pipelineCounters.withLock { $0?.incidentsDropped.count() } },
            afterStore: { forwarderSlot.withLock { $0 }?.wake() }
        )
        // Forwarding: its files (CA, certificate, key, token) are read and checked now, before
        // the source is chosen (an audit source takes audit over) and before privileges go.
        let forwarder = try makeForwarder(store: store, writer: writer)
        forwarderSlot.withLock { $0 = forwarder }
        let chosen = try selectSource(configuration, state, logger, dropPrivileges)
        sourceName.withLock { $0 = chosen.source.name }
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
            deliver: { writer.offer($0) }
        )
        pipelineCounters.withLock { $0 = pipeline.counters }

        let stop = try StopSignal()
        stopForFailure.withLock { $0 = stop }
        let startedAt = EventTime.now
        let sampler = RateSampler()
        let ruleCount = Atomic<Int>(rules.count)
        let budgets = (engine: configuration.engineMaxBytes, reassembly: configuration.reassemblyMaxBytes)
        let snapshot: @Sendable () -> AgentStatus = {
            let capture = chosen.source.counters
            let counters = pipeline.counters
            let now = EventTime.now
            var status = AgentStatus(
                source: chosen.source.name,
                sourceReason: chosen.reason,
                sourceLimitations: chosen.limitations,
                hostName: hostName,
                agentId: agentId,
                startedAt: startedAt,
                uptimeSeconds: (now.millisecondsSinceEpoch - startedAt.millisecondsSinceEpoch) / 1000,
                inputs: counters.inputs.current,
                events: counters.events.current,
                eventsPerSecond: sampler.rate(events: counters.events.current, at: now),
                failedExecs: counters.failedExecs.current,
                malformedRecords: counters.malformedRecords.current + capture.malformed.current,
                kernelLost: capture.kernelLost.current,
                kernelBacklog: capture.kernelBacklog.current,
                agentDrops: capture.socketOverruns.current + capture.processesGone.current
                    + counters.incidentsDropped.current,
                sequenceGaps: capture.sequenceGaps.current,
                argumentsTruncated: capture.argumentsTruncated.current,
                incidentsCreated: counters.incidentsCreated.current,
                incidentsUpdated: counters.incidentsUpdated.current,
                incidentsStored: writer.stored.current,
                outboxDepth: writer.outboxDepth.current,
                outboxDropped: writer.outboxDropped.current,
                deadLettered: writer.deadLettered.current,
                rules: ruleCount.load(ordering: .relaxed),
                capabilities: ProcessFacts.effectiveCapabilities(thread: captureThread.load(ordering: .relaxed)),
                user: ProcessFacts.userName(),
                residentBytes: ProcessFacts.residentBytes(),
                forward: forwarder?.status,
                memory: MemoryStatus(
                    engineMaxBytes: budgets.engine,
                    engineBytes: counters.engineBytes.current,
                    groupsEvicted: counters.groupsEvicted.current,
                    incidentsForgotten: counters.incidentsForgotten.current,
                    engineBytesEvicted: counters.engineBytesEvicted.current,
                    reassemblyMaxBytes: budgets.reassembly,
                    reassemblyBytes: counters.reassemblyBytes.current,
                    pendingExecsEvicted: counters.pendingExecsEvicted.current
                ),
                journal: JournalStatus(
                    waiting: writer.waiting.current,
                    storeFailures: writer.storeFailures.current,
                    error: writer.storeError
                ),
                auditClaimsRefused: capture.auditClaimsRefused.current,
                auditRulesRestored: capture.auditRulesRestored.current
            )
            status.sourceRunning = sourceRunning.load(ordering: .acquiring)
            return status
        }
        let statusServer = try StatusServer(path: configuration.statusSocket, snapshot: snapshot)
        DetachedThread.start { statusServer.serve(until: stop) }
        if let listen = configuration.metricsListen {
            // Detection goes on without metrics: a busy port is logged, not fatal.
            do {
                let metrics = try MetricsServer(listen: listen, snapshot: snapshot)
                DetachedThread.start { metrics.serve(until: stop) }
                logger.info("metrics served", metadata: ["url": "http://\(listen)/metrics"])
            } catch {
                logger.error("metrics not served: \(error)")
            }
        }

        // Signals: handled on a dispatch queue, never in async-signal context.
        let signalQueue = DispatchQueue(label: "execwatch.signals")
        var signalSources: [DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: signalQueue)
            let logger = self.logger
            let rulePaths = configuration.rulePaths
            source.setEventHandler {
                if number == SIGHUP {
                    do {
                        let reloaded = try RuleSources.load(rulePaths, logger: logger)
                        pipeline.replaceRules(reloaded)
                        ruleCount.store(reloaded.count, ordering: .relaxed)
                        logger.notice("rules reloaded", metadata: ["rules": "\(reloaded.count)"])
                    } catch {
                        logger.error("rules not reloaded, keeping the current ones: \(error)")
                    }
                } else {
                    logger.notice("stopping", metadata: ["signal": "\(number == SIGTERM ? "SIGTERM" : "SIGINT")"])
                    stop.signal()
                }
            }
            source.resume()
            signalSources.append(source)
        }
        defer { for source in signalSources { source.cancel() } }

        let writerTask = Task { await writer.run(store: store, logger: logger) }
        let forwarderTask = forwarder.map { forwarder in Task { await forwarder.run() } }
        let captureResult: Result<Void, any Error> = await withCheckedContinuation { continuation in
            DetachedThread.start {
                if !chosen.callsWhenSetUp { dropPrivileges() }
                let result = Result { try chosen.source.run(into: pipeline, until: stop) }
                pipeline.finish()
                continuation.resume(returning: result)
            }
        }
        stop.signal()  // the status server too, whether the source stopped by signal or failed
        writer.finish()
        await writerTask.value
        if let forwarderTask {
            await drainOutbox(store, forwarder: forwarder, within: .seconds(3))
            forwarderTask.cancel()
            await forwarderTask.value
        }
        try await store.close()
        switch captureResult {
        case .success:
            logger.notice("stopped", metadata: ["incidentsStored": "\(writer.stored.current)"])
            return 0
        case .failure(let error):
            logger.critical("capture failed: \(error)")
            return 1
        }
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

    /// On stop, gives the forwarder a moment to send what the last events produced.
    private func drainOutbox(_ store: any IncidentStore, forwarder: IncidentForwarder?, within limit: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while clock.now < deadline {
            guard let depth = try? await store.outboxDepth(), depth > 0 else { return }
            // A collector that is failing will not take them in the next seconds either.
            if let forwarder, forwarder.status.consecutiveFailures > 0 { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        logger.notice("stopping with incident changes still in the outbox; they are sent after the next start")
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

/// Picks the capture source for a configuration (see ``AgentSources``); audit sources call
/// `whenSetUp` on their capture thread once set up.
public typealias SourceSelector =
    @Sendable (AgentConfiguration, _ state: AgentStateDirectory, Logger, _ whenSetUp: @escaping @Sendable () -> Void)
    throws -> ChosenSource

/// Events per second over the last few seconds, from the events counter sampled when asked.
final class RateSampler: Sendable {
    private let samples = Mutex<[(time: Int64, events: Int)]>([])

    func rate(events: Int, at now: EventTime) -> Double {
        samples.withLock { samples in
            let t = now.millisecondsSinceEpoch
            samples.append((t, events))
            samples.removeAll { t - $0.time > 10_000 }
            guard let first = samples.first, t > first.time else { return 0 }
            return Double(events - first.events) * 1000 / Double(t - first.time)
        }
    }
}
