/// Whether incident changes reach the journal: while storing fails (a full state directory, say)
/// they wait in memory and are counted here, with the reason.
public struct JournalStatus: Sendable, Equatable {
    /// Changes detected and not stored yet.
    public var waiting: Int
    /// Store attempts that failed (each is retried).
    public var storeFailures: Int
    /// Why storing fails, while it fails; nil when the latest store worked.
    public var error: String?

    public init(waiting: Int = 0, storeFailures: Int = 0, error: String? = nil) {
        self.waiting = waiting
        self.storeFailures = storeFailures
        self.error = error
    }

    /// The facts as (status key, value) pairs, in the order `status` shows them.
    var facts: [(key: String, value: Int)] {
        [("journalWaiting", waiting), ("journalStoreFailures", storeFailures)]
    }

    /// The Prometheus metrics of these facts: `metric(name, type, help, value)`.
    func expose(_ metric: (String, String, String, String) -> Void) {
        metric(
            "journal_waiting",
            "gauge",
            "Incident changes detected and not stored yet (they wait while the journal cannot be written).",
            String(waiting)
        )
        metric(
            "journal_store_failures_total",
            "counter",
            "Attempts to store incident changes that failed (see execwatch status for the reason).",
            String(storeFailures)
        )
    }
}
