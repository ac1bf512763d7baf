import Capture
import ExecEvents
import Forwarding
import Synchronization

/// What `status` and the metrics endpoint show, read from the running parts when asked.
struct StatusSnapshot: Sendable {
    let chosen: ChosenSource
    let pipeline: PipelineCounters
    let writer: JournalWriter
    let forwarder: IncidentForwarder?
    let setUp: CaptureSetUp
    let reload: RulesReloadService
    let hostName: String
    let agentId: String
    let budgets: (engine: Int, reassembly: Int)
    let startedAt = EventTime.now
    private let sampler = RateSampler()

    init(
        chosen: ChosenSource,
        pipeline: PipelineCounters,
        writer: JournalWriter,
        forwarder: IncidentForwarder?,
        setUp: CaptureSetUp,
        reload: RulesReloadService,
        hostName: String,
        agentId: String,
        budgets: (engine: Int, reassembly: Int)
    ) {
        self.chosen = chosen
        self.pipeline = pipeline
        self.writer = writer
        self.forwarder = forwarder
        self.setUp = setUp
        self.reload = reload
        self.hostName = hostName
        self.agentId = agentId
        self.budgets = budgets
    }

    func current() -> AgentStatus {
        let capture = chosen.source.counters
        let counters = pipeline
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
            rules: reload.rulesInUse.load(ordering: .relaxed),
            capabilities: ProcessFacts.effectiveCapabilities(thread: setUp.captureThread),
            user: ProcessFacts.userName(),
            residentBytes: ProcessFacts.residentBytes(),
            forward: forwarder?.status,
            memory: MemoryStatus(
                engineMaxBytes: budgets.engine,
                engineBytes: counters.engineBytes.current,
                groupsEvicted: counters.groupsEvicted.current,
                incidentsForgotten: counters.incidentsForgotten.current,
                engineBytesEvicted: counters.engineBytesEvicted.current,
                groupsClosed: counters.groupsClosed.current,
                incidentsClosed: counters.incidentsClosed.current,
                processesEvicted: counters.processesEvicted.current + capture.processesEvicted.current,
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
        status.sourceRunning = setUp.isRunning
        return status
    }
}

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
