import AuditRecords
import Capture
import ExecEvents
import HostProcesses
import RuleEngine
import Synchronization

/// The synchronous part of the agent, run on the capture thread: audit records (or /proc
/// executions) in, reassembled and normalized events through the rules, incident changes out to
/// `deliver` (which must not block: it hands them to the journal writer).
///
/// `@unchecked Sendable`: a capture source owns the pipeline and calls it from its one capture
/// thread only (the ``CaptureSink`` contract); the state touched from other threads is the
/// counters (atomics) and the rules waiting to be applied (a mutex).
public final class DetectionPipeline: CaptureSink, @unchecked Sendable {
    public let counters: PipelineCounters

    private var assembler: AuditEventAssembler
    private var normalizer: ExecEventNormalizer
    private var engine: DetectionEngine
    private let deliver: (IncidentUpdate) -> Void
    private let waitingRules = Mutex<[Rule]?>(nil)
    private let hasWaitingRules = Atomic<Bool>(false)

    /// `live`: in live capture, what `/proc` says of running processes, for `parentProcName`
    /// (nil: the table of execs seen alone, as in replay). `counters`: given when something made
    /// before the pipeline counts into them too (the journal writer, its dropped changes).
    public init(
        engine: DetectionEngine,
        hostName: String,
        graceMilliseconds: Int64,
        reassemblyMaxBytes: Int = AuditEventAssembler.defaultMaximumBytes,
        live: (any RunningProcesses)? = nil,
        counters: PipelineCounters = PipelineCounters(),
        deliver: @escaping (IncidentUpdate) -> Void
    ) {
        self.counters = counters
        self.engine = engine
        self.assembler = AuditEventAssembler(graceMilliseconds: graceMilliseconds, maximumBytes: reassemblyMaxBytes)
        self.normalizer = ExecEventNormalizer(hostName: hostName, live: live)
        self.deliver = deliver
        takeEngineCounts(since: EngineCounters())  // what restoring incidents held and forgot
    }

    /// Asks the capture thread to use these rules from its next input on (SIGHUP). Windows of
    /// rules that did not change are kept.
    public func replaceRules(_ rules: [Rule]) {
        waitingRules.withLock { $0 = rules }
        hasWaitingRules.store(true, ordering: .releasing)
    }

    // MARK: CaptureSink

    public func auditRecord(type: UInt16, payload: UnsafeRawBufferPointer) {
        takeWaitingRules()
        counters.inputs.count()
        if assembler.ingest(type: type, payload: payload, complete) != nil { counters.malformedRecords.count() }
        takeAssemblerCounts()
    }

    public func auditLine(_ line: UnsafeRawBufferPointer) {
        takeWaitingRules()
        counters.inputs.count()
        if assembler.ingest(line: line, complete) != nil { counters.malformedRecords.count() }
        takeAssemblerCounts()
    }

    public func exec(_ event: ExecEvent) {
        takeWaitingRules()
        counters.inputs.count()
        evaluate(event)
    }

    public func exec(probe: ExecProbe, complete: (ExecProbe) -> ExecEvent) {
        takeWaitingRules()
        counters.inputs.count()
        evaluate(probe: probe.event, argumentArea: probe.argumentArea) { _ in complete(probe) }
    }

    /// The programs the rules in force name; the others only rules filed under "any" or under
    /// the parent's program can match.
    public var promptPrograms: Set<String>? { engine.namedPrograms }

    public func idle(now: EventTime) {
        takeWaitingRules()
        assembler.expire(now: now, complete)
        takeAssemblerCounts()
    }

    /// Completes whatever is still open (the source stopped).
    public func finish() {
        assembler.finish(complete)
        takeAssemblerCounts()
    }

    // MARK: The work

    private func complete(_ completed: AuditEventAssembler.CompletedExec) {
        evaluate(probe: normalizer.probe(from: completed)) { normalizer.event(from: completed, probe: $0) }
        let evictions = normalizer.processTableEvictions
        if evictions != counters.processesEvicted.current { counters.processesEvicted.set(evictions) }
    }

    /// Most events match no rule: the whole event is derived only for those that may (judged
    /// with the rules' guards too when the probe comes with its argv). `whole` is given the probe
    /// back, to derive the event from it instead of again.
    private func evaluate(
        probe: consuming ExecEvent,
        argumentArea: [UInt8]? = nil,
        whole: (consuming ExecEvent) -> ExecEvent
    ) {
        guard engine.mayMatchInPlace(probe, argumentArea: argumentArea) else {
            counters.events.count()
            return
        }
        evaluate(whole(probe))
    }

    /// Consumes the event: it moves into the engine (see ``DetectionEngine/process(_:)``).
    private func evaluate(_ event: consuming ExecEvent) {
        counters.events.count()
        let before = engine.counters
        for update in engine.process(event) {
            switch update.kind {
            case .created: counters.incidentsCreated.count()
            case .updated: counters.incidentsUpdated.count()
            }
            deliver(update)
        }
        takeEngineCounts(since: before)
    }

    private func takeEngineCounts(since before: EngineCounters) {
        let after = engine.counters
        if after.bytesHeld != before.bytesHeld { counters.engineBytes.store(after.bytesHeld, ordering: .relaxed) }
        guard after.bytesEvicted != before.bytesEvicted else { return }
        counters.engineBytesEvicted.count(Int(after.bytesEvicted - before.bytesEvicted))
        counters.groupsEvicted.count(Int(after.groupsEvicted - before.groupsEvicted))
        counters.incidentsForgotten.count(Int(after.incidentsForgotten - before.incidentsForgotten))
        counters.groupsClosed.count(Int(after.groupsClosed - before.groupsClosed))
        counters.incidentsClosed.count(Int(after.incidentsClosed - before.incidentsClosed))
    }

    private var lastFailedExecs = 0
    private var lastForcedCompletions = 0
    private var lastReassemblyBytes = 0

    private func takeAssemblerCounts() {
        let statistics = assembler.statistics
        if statistics.failedExecs != lastFailedExecs {
            counters.failedExecs.count(statistics.failedExecs - lastFailedExecs)
            lastFailedExecs = statistics.failedExecs
        }
        if statistics.forcedCompletions != lastForcedCompletions {
            counters.pendingExecsEvicted.count(statistics.forcedCompletions - lastForcedCompletions)
            lastForcedCompletions = statistics.forcedCompletions
        }
        let held = assembler.heldBytes
        if held != lastReassemblyBytes {
            counters.reassemblyBytes.store(held, ordering: .relaxed)
            lastReassemblyBytes = held
        }
    }

    private func takeWaitingRules() {
        guard hasWaitingRules.load(ordering: .acquiring) else { return }
        hasWaitingRules.store(false, ordering: .relaxed)
        guard
            let rules = waitingRules.withLock({ rules -> [Rule]? in
                defer { rules = nil }
                return rules
            })
        else { return }
        let before = engine.counters
        _ = engine.replaceRules(rules)
        takeEngineCounts(since: before)
    }
}

extension DetectionEngine {
    /// ``mayMatch(_:)`` on the engine where it is stored: a non-mutating call on a struct held in
    /// a class's property copies the struct first (a retain and a release of each of its tables,
    /// for every exec); a mutating access borrows it in place.
    fileprivate mutating func mayMatchInPlace(_ event: ExecEvent, argumentArea: [UInt8]?) -> Bool {
        guard let argumentArea else { return mayMatch(event) }
        return mayMatch(event, argumentArea: argumentArea)
    }
}
