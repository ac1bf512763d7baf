/// How loudly each attempt's outcome is logged, so that a collector that stays away for hours
/// leaves a few lines in the log, not thousands.
///
/// A failure is logged at error level when it starts or when its reason changes; retries failing
/// for the same reason are logged at debug level, with a warning reminder at most once per
/// ``reminderMilliseconds``. The first success after failures is logged once (at info level).
struct FailureLogPolicy: Sendable, Equatable {
    enum Level: Sendable, Equatable {
        case error
        case warning
        case debug
    }

    /// What identifies the failure going on (its reason, or a coarser key); nil while attempts succeed.
    private(set) var currentKey: String?
    /// Failed attempts since the last success.
    private(set) var failedAttempts = 0
    private var lastLoggedAt: Int64 = 0

    /// Longest silence (at warning level) while failing for the same reason.
    static let reminderMilliseconds: Int64 = 60_000

    /// An attempt failed, for a reason identified by `key`, at `now` (milliseconds, any monotonic origin).
    mutating func failed(key: String, now: Int64) -> Level {
        failedAttempts += 1
        if key != currentKey {
            currentKey = key
            lastLoggedAt = now
            return .error
        }
        if now - lastLoggedAt >= Self.reminderMilliseconds {
            lastLoggedAt = now
            return .warning
        }
        return .debug
    }

    /// An attempt succeeded; returns how many attempts had failed before it (0: nothing to report).
    mutating func succeeded() -> Int {
        defer {
            currentKey = nil
            failedAttempts = 0
        }
        return failedAttempts
    }
}
