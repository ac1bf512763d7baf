import CollectorStorage
import Logging
import Synchronization

/// The number of stored incidents for `/metrics`, which anyone may scrape as often as they like,
/// without letting scrapes load the store.
///
/// The store is counted (`count(*)`) at most once per ``refreshInterval``, by one scrape at a
/// time; between counts the value grows by the incidents this collector created. Incidents that
/// other collectors sharing a PostgreSQL store created show at the next count. A failed count is
/// not tried again before the interval has passed either.
final class StoredIncidentCount: Sendable {
    private struct State {
        var value: Int?
        var countedAt: ContinuousClock.Instant?
        var counting = false
    }

    let refreshInterval: Duration
    private let state = Mutex(State())
    private let now: @Sendable () -> ContinuousClock.Instant

    /// - Parameter now: the clock (tests pass one they move).
    init(refreshInterval: Duration, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.refreshInterval = refreshInterval
        self.now = now
    }

    /// Incidents this collector just created.
    func add(_ created: Int) {
        guard created > 0 else { return }
        state.withLock { state in
            if let value = state.value { state.value = value + created }
        }
    }

    /// The current value (nil until the store could be counted once), counting the store first
    /// when the last count is older than ``refreshInterval``.
    func current(from store: any CollectorStore, logger: Logger) async -> Int? {
        let asked = now()
        let due = state.withLock { state -> Bool in
            guard !state.counting else { return false }
            if let countedAt = state.countedAt, countedAt.duration(to: asked) < refreshInterval { return false }
            state.counting = true
            return true
        }
        if due {
            var counted: Int?
            do {
                counted = try await store.incidentCount()
            } catch {
                logger.warning("metrics: cannot count stored incidents: \(error)")
            }
            state.withLock { state in
                if let counted { state.value = counted }
                state.countedAt = now()
                state.counting = false
            }
        }
        return state.withLock { $0.value }
    }
}
