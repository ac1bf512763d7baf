import Capture
import Logging
import RuleEngine
import Synchronization

/// Carries incident changes from the capture thread to the store without ever blocking the
/// capture thread: a bounded queue (changes beyond it are dropped and counted — loss is never
/// silent) drained by one task that stores each change, retrying while the store fails.
///
/// While the store fails (a full disk, say) the changes wait in the queue, in order, and are
/// stored as soon as it works again; the failure is logged when it starts, at most once a
/// ``reminderInterval`` while it lasts, and when it ends — never once per change or per retry.
public final class JournalWriter: Sendable {
    /// Changes the store wrote (committed).
    public let stored = Atomic<Int>(0)
    /// Store attempts that failed (each is retried).
    public let storeFailures = Atomic<Int>(0)
    /// Changes queued and not stored yet (all of them wait while the store fails).
    public let waiting = Atomic<Int>(0)
    /// The outbox depth after the latest store.
    public let outboxDepth = Atomic<Int>(0)
    /// Outbox changes dropped to keep it within its bound.
    public let outboxDropped = Atomic<Int>(0)
    /// Changes the collector refused for good, kept in the store's dead letters (all of them, not
    /// only this run's): read at start, kept current by the forwarder's outbox.
    public let deadLettered = Atomic<Int>(0)

    private let stream: AsyncStream<IncidentUpdate>
    private let continuation: AsyncStream<IncidentUpdate>.Continuation
    private let dropped: @Sendable () -> Void
    private let outboxMaxDepth: Int
    private let capacity: Int
    private let reminderInterval: Duration
    private let failure = Mutex<String?>(nil)
    private let finishing = Atomic<Bool>(false)
    /// After ``finish()``, how long (and at least how many times) a failing store is still retried
    /// before the change is given up, so that the agent can stop; the changes after it are tried
    /// once each. What is given up is logged once, with how many.
    private let retryWhenFinishing: (time: Duration, attempts: Int) = (.seconds(5), 5)

    /// Why the latest store failed, while storing fails; nil once a store worked again.
    public var storeError: String? { failure.withLock { $0 } }

    /// - Parameters:
    ///   - capacity: how many changes may wait.
    ///   - outboxMaxDepth: the outbox's bound (see ``IncidentStore/trimOutbox(toAtMost:)``).
    ///   - dropped: called (on the capture thread) for each change that did not fit.
    ///   - reminderInterval: while storing fails, how often the failure is logged again.
    public init(
        capacity: Int = 10_000,
        outboxMaxDepth: Int = 100_000,
        reminderInterval: Duration = .seconds(60),
        dropped: @escaping @Sendable () -> Void
    ) {
        self.outboxMaxDepth = outboxMaxDepth
        self.capacity = capacity
        self.reminderInterval = reminderInterval
        (stream, continuation) = AsyncStream.makeStream(
            of: IncidentUpdate.self,
            bufferingPolicy: .bufferingOldest(capacity)
        )
        self.dropped = dropped
    }

    /// Queues a change; never blocks.
    public func offer(_ update: IncidentUpdate) {
        switch continuation.yield(update) {
        case .enqueued: waiting.count()
        case .dropped: dropped()
        case .terminated: break
        @unknown default: break
        }
    }

    /// No more changes will come; ``run(store:logger:afterStore:)`` returns once the queue is drained (or,
    /// while the store fails, after a few more seconds of retrying).
    public func finish() {
        finishing.store(true, ordering: .releasing)
        continuation.finish()
    }

    /// Stores every change in order until ``finish()`` and the queue is empty; `afterStore` is
    /// called after each change is committed (the forwarder's wake-up).
    public func run(store: any IncidentStore, logger: Logger, afterStore: @Sendable () -> Void = {}) async {
        if let depth = try? await store.outboxDepth() { outboxDepth.set(depth) }
        if let count = try? await store.deadLetterCount() { deadLettered.set(count) }
        let clock = ContinuousClock()
        var failingSince: ContinuousClock.Instant?
        var lastReminder = clock.now
        var givingUpAt: ContinuousClock.Instant?
        var lost = 0
        var lastError = ""
        for await update in stream {
            var delay: Duration = .milliseconds(50)
            var attempts = 0
            while true {
                attempts += 1
                do {
                    _ = try await store.store(update)
                    stored.count()
                    waiting.count(-1)
                    if let since = failingSince {
                        failingSince = nil
                        givingUpAt = nil
                        failure.withLock { $0 = nil }
                        logger.notice(
                            "storing incident changes again",
                            metadata: [
                                "failedFor": "\((clock.now - since).components.seconds)s",
                                "waiting": "\(waiting.current)",
                            ]
                        )
                    }
                    afterStore()
                    break
                } catch {
                    storeFailures.count()
                    failure.withLock { $0 = "\(error)" }
                    let now = clock.now
                    if failingSince == nil {
                        failingSince = now
                        lastReminder = now
                        let consequence = "they wait in memory (at most \(capacity), more are dropped and counted)"
                        logger.error(
                            "cannot store incident changes; \(consequence) and storing is retried",
                            metadata: ["error": "\(error)", "waiting": "\(waiting.current)"]
                        )
                    } else if now - lastReminder >= reminderInterval {
                        lastReminder = now
                        logger.error(
                            "still cannot store incident changes",
                            metadata: [
                                "error": "\(error)", "waiting": "\(waiting.current)",
                                "failures": "\(storeFailures.current)",
                            ]
                        )
                    }
                    if finishing.load(ordering: .acquiring) {
                        let deadline = givingUpAt ?? now + retryWhenFinishing.time
                        givingUpAt = deadline
                        if now >= deadline, attempts >= retryWhenFinishing.attempts || lost > 0 {
                            lost += 1
                            waiting.count(-1)
                            lastError = "\(error)"
                            break
                        }
                    }
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(5))
                }
            }
            await keepOutboxBounded(store, logger: logger)
        }
        if lost > 0 {
            logger.error(
                "stopping with incident changes that could not be stored: they are lost",
                metadata: ["lost": "\(lost)", "error": "\(lastError)"]
            )
        }
    }

    private func keepOutboxBounded(_ store: any IncidentStore, logger: Logger) async {
        guard var depth = try? await store.outboxDepth() else { return }
        if depth > outboxMaxDepth {
            do {
                let dropped = try await store.trimOutbox(toAtMost: outboxMaxDepth)
                outboxDropped.count(dropped)
                depth -= dropped
                logger.warning("outbox full: dropped the oldest changes", metadata: ["dropped": "\(dropped)"])
            } catch {
                logger.error("cannot trim the outbox: \(error)")
            }
        }
        outboxDepth.set(depth)
    }
}
