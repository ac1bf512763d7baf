import Forwarding
import Logging
import ServiceLifecycle

/// The ``IncidentForwarder``: sends the outbox to the collector. Told to stop (after the journal
/// writer has stored the last changes), it first gives the collector a moment to take what the
/// last events produced, then closes its connections.
struct ForwarderService: Service, CustomStringConvertible {
    let forwarder: IncidentForwarder
    let store: any IncidentStore
    let logger: Logger
    /// How long the last changes may take to go out at stop.
    var finalFlush: Duration = .seconds(3)

    var description: String { "forwarder" }

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await forwarder.run() }
            // Throws when cancelled: then the forwarder stops at once.
            if (try? await gracefulShutdown()) != nil { await drainOutbox() }
            group.cancelAll()
        }
    }

    /// Waits (at most ``finalFlush``) until the outbox is empty, unless the collector is failing.
    private func drainOutbox() async {
        let clock = ContinuousClock()
        let deadline = clock.now + finalFlush
        while clock.now < deadline {
            guard let depth = try? await store.outboxDepth(), depth > 0 else { return }
            // A collector that is failing will not take them in the next seconds either.
            if forwarder.status.consecutiveFailures > 0 { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        logger.notice("stopping with incident changes still in the outbox; they are sent after the next start")
    }
}
