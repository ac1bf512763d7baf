import ExecEvents

/// What the forwarder is doing and has done since it started: for `execwatch status` and `/metrics`.
///
/// Counters only grow while the agent runs; they start at zero with every start.
public struct ForwarderStatus: Sendable, Equatable {
    /// What the forwarder is doing right now.
    public enum State: String, Sendable, Equatable {
        /// Nothing to send: the outbox was empty at the last look.
        case idle
        /// A batch is being assembled or is on its way to the collector.
        case sending
        /// The last attempt failed; waiting (backoff or `Retry-After`) before the next one.
        case retrying
    }

    /// The collector's base URL, as configured (without a trailing `/`).
    public var url: String
    public var state: State
    /// Why the last attempt failed, in words for people: "TLS: server certificate from an unknown CA
    /// (…)", "401 Unauthorized: unknown token", "connection refused by 127.0.0.1:8443", …
    /// It stays after a later success: ``lastErrorAt`` and ``lastSuccessAt`` tell which came last.
    public var lastError: String?
    /// The kind of the last failure, for `/metrics`.
    public var lastErrorKind: ForwardFailureKind?
    public var lastErrorAt: EventTime?
    public var lastSuccessAt: EventTime?
    /// Incident changes (outbox rows) the collector has acknowledged.
    public var forwarded: Int
    /// Incident changes the collector refused for good (400, 413, 415 or 422 on a batch of a single
    /// incident), moved to the journal's dead letters since the start.
    public var rejected: Int
    /// Attempts that failed (each retry that fails counts again).
    public var retries: Int
    /// Attempts that failed since the last success.
    public var consecutiveFailures: Int

    public init(
        url: String,
        state: State = .idle,
        lastError: String? = nil,
        lastErrorKind: ForwardFailureKind? = nil,
        lastErrorAt: EventTime? = nil,
        lastSuccessAt: EventTime? = nil,
        forwarded: Int = 0,
        rejected: Int = 0,
        retries: Int = 0,
        consecutiveFailures: Int = 0
    ) {
        self.url = url
        self.state = state
        self.lastError = lastError
        self.lastErrorKind = lastErrorKind
        self.lastErrorAt = lastErrorAt
        self.lastSuccessAt = lastSuccessAt
        self.forwarded = forwarded
        self.rejected = rejected
        self.retries = retries
        self.consecutiveFailures = consecutiveFailures
    }
}
