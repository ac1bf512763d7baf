import Capture
import Logging
import RuleEngine
import Synchronization

/// Carries incident changes from the capture thread to the store without ever blocking the
/// capture thread: a bounded queue (changes beyond it are dropped and counted — loss is never
/// silent) drained by one task that stores each change, retrying while the store fails.
public final class JournalWriter: Sendable {
    /// Changes stored (committed).
    public let stored = Atomic<Int>(0)
    /// Store attempts that failed (each is retried).
    public let storeFailures = Atomic<Int>(0)
    /// The outbox depth after the latest store.
    public let outboxDepth = Atomic<Int>(0)

    private let stream: AsyncStream<IncidentUpdate>
    private let continuation: AsyncStream<IncidentUpdate>.Continuation
    private let dropped: @Sendable () -> Void

    /// - Parameters:
    ///   - capacity: how many changes may wait.
    ///   - dropped: called (on the capture thread) for each change that did not fit.
    public init(capacity: Int = 10_000, dropped: @escaping @Sendable () -> Void) {
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
        for await update in stream {
            var delay: Duration = .milliseconds(50)
            while true {
                do {
                    try await store.store(update)
                    stored.count()
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
            if let depth = try? await store.outboxDepth() { outboxDepth.set(depth) }
        }
    }
}
