import Capture
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Reads audit records from the kernel over netlink and delivers them as (type, payload).
///
/// - ``Mode/unicast`` (`audit-unicast`): the agent is the audit daemon. It refuses when another
///   live process is registered, registers its own pid, enables audit, sets the backlog limit and
///   wait time, and installs its exec rules; on stop it deletes exactly those rules and puts the
///   enabled flag, backlog settings and audit pid back as it found them.
/// - ``Mode/multicast`` (`audit-multicast`): another daemon (auditd) owns audit; the agent reads
///   a copy of every record (needs CAP_AUDIT_READ) and only makes sure its exec rules are loaded,
///   deleting on stop those it added.
///
/// Both need CAP_AUDIT_CONTROL until they stop (status reads, rules, restoring).
///
/// With a ``Configuration/stateRecord`` both write down what they found before changing it (an
/// ``AuditStateRecord``) and remove the record once it is put back; a record a killed agent left
/// in this boot is put back first, so the leftover is never taken for the host's state.
///
/// The source is `Sendable` (checked): its configuration is immutable, its counters are atomics,
/// its snapshot is behind a mutex, and everything `run` changes (sockets, buffers, serial
/// tracking, what to restore) lives in `run`'s own frame on the capture thread.
public final class AuditNetlinkSource: CaptureSource {
    /// How the agent relates to the audit daemon role.
    public enum Mode: String, Sendable {
        case unicast = "audit-unicast"
        case multicast = "audit-multicast"
    }

    /// What the source sets up; every value has a default but the mode.
    public struct Configuration: Sendable {
        public var mode: Mode
        /// The key (`-k`) of the exec rules the source installs.
        public var ruleKey: String
        /// Unicast: the backlog limit to set (records queued for the daemon).
        public var backlogLimit: UInt32 = 8192
        /// Unicast: the backlog wait time to set, in jiffies; 0 never makes audited programs wait
        /// (records beyond the backlog are lost and counted by the kernel instead).
        public var backlogWaitTime: UInt32 = 0
        /// The socket receive buffer to ask for.
        public var receiveBufferBytes = 8 << 20
        /// How long to wait for records before telling the sink it is idle (and checking stop).
        public var pollTimeoutMilliseconds: Int32 = 200
        /// After reading a burst, wait this long before looking again, so the records of the next
        /// executions are read together. Each wake-up costs about as much as handling ten execs
        /// (measured by bench-live.sh), so this is most of the agent's CPU at low rates; it adds
        /// at most this much to the time from exec to incident (goal: p99 ≤ 50 ms).
        public var coalesceMicroseconds: UInt32 = 25000
        /// How often to read the kernel's status (`lost`, `backlog`).
        public var statusIntervalMilliseconds = 5000
        /// Called on the capture thread once the sockets are open and audit is set up, before
        /// the first read: where to drop privileges (capabilities belong to a thread). Keep
        /// CAP_AUDIT_CONTROL (status, restoring) and, for multicast, CAP_AUDIT_READ.
        public var whenSetUp: (@Sendable () -> Void)?
        /// Where the audit state found is written down before anything is changed, so that a
        /// later start (or `execwatch audit restore`) can put it back after a crash. At start a
        /// record a dead agent left in this boot is restored first. Nil: nothing is written down.
        public var stateRecord: (any AuditStateRecordStore)?
        /// Told, in words, what the source did with a record a previous agent left (for the log).
        public var leftoverStateHandled: (@Sendable (String) -> Void)?
        /// Told, in words, when another program changed what the source relies on (for the log;
        /// called on the capture thread): it tried to become the audit daemon (the kernel refused
        /// it), or it removed the source's exec rules (added again). Capture goes on either way.
        public var othersChangedAudit: (@Sendable (String) -> Void)?

        public init(mode: Mode, ruleKey: String = "execwatch") {
            self.mode = mode
            self.ruleKey = ruleKey
        }
    }

    public let configuration: Configuration
    public let counters = CaptureCounters()
    public var name: String { configuration.mode.rawValue }
    private let state: Mutex<AuditSourceSnapshot>
    private let isRunning = Atomic(false)

    public init(configuration: Configuration) {
        self.configuration = configuration
        state = Mutex(AuditSourceSnapshot(mode: configuration.mode))
    }

    public convenience init(mode: Mode, ruleKey: String = "execwatch") {
        self.init(configuration: Configuration(mode: mode, ruleKey: ruleKey))
    }

    /// What the source has done and last read (for `status`); safe from any thread.
    public var snapshot: AuditSourceSnapshot { state.withLock { $0 } }

    func update(_ change: (inout AuditSourceSnapshot) -> Void) {
        state.withLock { change(&$0) }
    }

    /// Sets up audit, reads records into `sink` on the calling thread until `stop` is signalled,
    /// then puts the audit state back. Throws when setting up or reading fails (after restoring),
    /// or when something could not be restored.
    public func run(into sink: any CaptureSink, until stop: StopSignal) throws {
        guard isRunning.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else {
            throw CaptureError(operation: "start \(name)", errno: EBUSY, detail: "this source is already running")
        }
        defer { isRunning.store(false, ordering: .releasing) }
        update {
            $0 = AuditSourceSnapshot(mode: configuration.mode)
            $0.phase = .starting
        }
        let control: AuditLink
        do {
            control = try AuditLink()
        } catch {
            update { $0.phase = .failed(error.description) }
            throw error
        }
        var changes = AuditStateChanges()
        // Whatever way `run` is left, what it changed is put back; after the explicit restore
        // below (which reports problems) this finds nothing left to do.
        defer { _ = restore(&changes, using: control) }
        let delivery = AuditRecordDelivery(sink: sink, counters: counters, claimed: configuration.othersChangedAudit)
        do throws(CaptureError) {
            changes.bootId = try restoreLeftoverState(control: control)
            let records =
                switch configuration.mode {
                case .unicast: try startUnicast(control: control, changes: &changes, delivery: delivery)
                case .multicast: try startMulticast(control: control, changes: &changes)
                }
            update { $0.phase = .running }
            configuration.whenSetUp?()
            try read(from: records, control: control, delivery: delivery, until: stop)
        } catch {
            let problems = restore(&changes, using: control)
            update {
                $0.phase = .failed(error.description)
                $0.restoreProblems = problems.map(\.description)
            }
            var failure = error
            if !problems.isEmpty {
                let restoring =
                    "restoring the audit state also failed: "
                    + problems.map(\.description).joined(separator: "; ")
                failure.detail = failure.detail.map { "\($0); \(restoring)" } ?? restoring
            }
            throw failure
        }
        let problems = restore(&changes, using: control)
        update {
            $0.phase = .stopped
            $0.restoreProblems = problems.map(\.description)
        }
        if let first = problems.first {
            throw CaptureError(
                operation: "restore the audit state",
                errno: first.errno,
                detail: problems.map(\.description).joined(separator: "; ")
            )
        }
    }
}

extension AuditNetlinkSource {
    /// With a record store: puts back what a dead agent's record of this boot says (before the
    /// kernel state is read as "found"), and returns this boot's id for the new record.
    private func restoreLeftoverState(control: AuditLink) throws(CaptureError) -> String? {
        guard let store = configuration.stateRecord else { return nil }
        let bootId = try AuditStateRecord.currentBootId()
        switch try AuditStateRecovery.restoreLeftover(from: store, bootId: bootId, control: control) {
        case .none: break
        case .otherBoot(let other):
            configuration.leftoverStateHandled?(
                "ignored and removed \(store.location): a record from another boot (\(other))"
            )
        case .restored(let record):
            configuration.leftoverStateHandled?(
                "put back the audit state a killed agent left changed (\(record.summary)) from \(store.location)"
            )
        }
        return bootId
    }

    /// Writes down `planned` (what is about to change, with what was found) before it changes;
    /// an empty plan removes the record this run wrote.
    func writeDown(_ planned: AuditStateChanges, in changes: inout AuditStateChanges) throws(CaptureError) {
        guard let store = configuration.stateRecord, let bootId = changes.bootId else { return }
        let record = planned.record(bootId: bootId)
        if record.isEmpty {
            if changes.isRecorded { try store.remove() }
            changes.isRecorded = false
            return
        }
        try store.write(record.text)
        changes.isRecorded = true
    }

    /// Undoes `changes`, then removes their record when everything was put back (it stays for
    /// the next start or `execwatch audit restore` otherwise).
    private func restore(_ changes: inout AuditStateChanges, using control: AuditLink) -> [CaptureError] {
        var problems = changes.restore(using: control)
        guard problems.isEmpty, changes.isRecorded, let store = configuration.stateRecord else { return problems }
        do throws(CaptureError) {
            try store.remove()
            changes.isRecorded = false
        } catch {
            problems.append(error)
        }
        return problems
    }
}

/// Hands records to the sink on the capture thread, counting them and serial gaps. Used only by
/// the thread running `run`.
final class AuditRecordDelivery {
    let sink: any CaptureSink
    let counters: CaptureCounters
    let claimed: (@Sendable (String) -> Void)?
    private var serials = AuditSerialTracker()

    init(sink: any CaptureSink, counters: CaptureCounters, claimed: (@Sendable (String) -> Void)? = nil) {
        self.sink = sink
        self.counters = counters
        self.claimed = claimed
    }

    /// Tracks the serial of every record and delivers those the pipeline reads; reports another
    /// program's claim on the audit daemon role.
    func deliver(_ message: NetlinkMessage) {
        if message.type == NetlinkDatagram.typeAuditReplace {
            if let claim = Self.describeClaim(message.payload) {
                counters.auditClaimsRefused.count()
                claimed?(claim)
            }
            return
        }
        guard message.isAuditRecord else { return }
        if let serial = AuditSerialTracker.serial(ofPayload: message.payload) {
            let change = serials.observe(serial)
            if change != 0 { counters.sequenceGaps.count(change) }
        }
        guard message.isDeliveredRecord else { return }
        sink.auditRecord(type: message.type, payload: message.payload)
        counters.delivered.count()
    }
}

extension AuditRecordDelivery {
    /// AUDIT_REPLACE carries the pid of the process that asked to become the audit daemon (the
    /// kernel sends it to the registered daemon to check it is alive, then refuses the other).
    /// Nil for this process's own request (unregistering on stop).
    static func describeClaim(_ payload: UnsafeRawBufferPointer) -> String? {
        guard payload.count >= MemoryLayout<Int32>.size else {
            return "another program asked to become the audit daemon; the kernel refused it: this agent holds audit"
        }
        let pid = payload.loadUnaligned(as: Int32.self)
        guard pid != getpid() else { return nil }
        let program = LinuxProcess.commandName(of: pid).map { " (\($0))" } ?? ""
        return "pid \(pid)\(program) asked to become the audit daemon; the kernel refused it (EEXIST): "
            + "this agent holds audit and capture goes on. To run auditd as well, stop the agent and run it "
            + "as auditd's plugin (--source audisp) or beside it (--source audit-multicast)"
    }
}
