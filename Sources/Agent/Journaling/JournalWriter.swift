import Capture
import Logging
import RuleEngine
import Synchronization

/// Carries incident changes from the capture thread to the store without ever blocking the
/// capture thread: a bounded queue (changes beyond it are dropped and counted — loss is never
/// silent) drained by one task that stores each change, retrying while the store fails.
public final class JournalWriter: Sendable {
    /// Changes the store wrote (committed).
    public let stored = Atomic<Int>(0)
    /// Store attempts that failed (each is retried).
    public let storeFailures = Atomic<Int>(0)
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
    private let afterStore: @Sendable () -> Void
    private let outboxMaxDepth: Int

    /// - Parameters:
    ///   - capacity: how many changes may wait.
    ///   - outboxMaxDepth: the outbox's bound (see ``IncidentStore/trimOutbox(toAtMost:)``).
    ///   - dropped: called (on the capture thread) for each change that did not fit.
    ///   - afterStore: called after each change is committed (the forwarder's wake-up).
    public init(
        capacity: Int = 10_000,
        outboxMaxDepth: Int = 100_000,
        dropped: @escaping @Sendable () -> Void,
        afterStore: @escaping @Sendable () -> Void = {}
    ) {
        self.outboxMaxDepth = outboxMaxDepth
        self.afterStore = afterStore
        (stream, continuation) = AsyncStream.makeStream(
            of: IncidentUpdate.self,
            bufferingPolicy: .bufferingOldest(capacity)
        )
        self.dropped = dropped
    }

    /// Queues a change; never blocks.
    public func offer(_ update: IncidentUpdate) {
        if case .dropped = continuation.yield(update) { dropped() }
    }

    /// No more changes will come; ``run(store:logger:)`` returns once the queue is drained.
    public func finish() {
        continuation.finish()
    }

    /// Stores every change in order until ``finish()`` and the queue is empty.
    public func run(store: any IncidentStore, logger: Logger) async {
        if let depth = try? await store.outboxDepth() { outboxDepth.set(depth) }
        if let count = try? await store.deadLetterCount() { deadLettered.set(count) }
        for await update in stream {
            var delay: Duration = .milliseconds(50)
            while true {
                do {
                    _ = try await store.store(update)
                    stored.count()
                    afterStore()
                    break
                } catch {
                    storeFailures.count()
                    logger.error(
                        "cannot store incident, retrying",
                        metadata: ["incidentId": "\(update.incident.incidentId)", "error": "\(error)"]
                    )
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(5))
                }
            }
            await keepOutboxBounded(store, logger: logger)
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
