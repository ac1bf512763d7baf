/// How long to wait before the next attempt after consecutive failures: exponential backoff with
/// full jitter.
///
/// The ceiling starts at ``initialMilliseconds`` (250 ms) after the first failure and doubles with
/// each further one up to ``maximumMilliseconds``; the wait is drawn uniformly from `0...ceiling`, so that
/// agents that lost the collector at the same moment do not come back at the same moment.
struct RetryBackoff: Sendable, Equatable {
    var initialMilliseconds: Int
    var maximumMilliseconds: Int

    init(initialMilliseconds: Int = 250, maximumMilliseconds: Int) {
        // A maximum below the usual first wait lowers the first wait too: it caps every wait.
        self.maximumMilliseconds = max(1, maximumMilliseconds)
        self.initialMilliseconds = max(1, min(initialMilliseconds, self.maximumMilliseconds))
    }

    /// The longest wait after `failures` consecutive failures (1 for the first failure).
    func ceilingMilliseconds(afterFailures failures: Int) -> Int {
        let doublings = max(0, failures - 1)
        var ceiling = initialMilliseconds
        for _ in 0..<min(doublings, 62) {
            ceiling *= 2
            if ceiling >= maximumMilliseconds { return maximumMilliseconds }
        }
        return min(ceiling, maximumMilliseconds)
    }

    /// The wait after `failures` consecutive failures: uniformly random in `0...ceiling`.
    func delayMilliseconds(
        afterFailures failures: Int,
        using generator: inout some RandomNumberGenerator
    ) -> Int {
        Int.random(in: 0...ceilingMilliseconds(afterFailures: failures), using: &generator)
    }

    func delayMilliseconds(afterFailures failures: Int) -> Int {
        var generator = SystemRandomNumberGenerator()
        return delayMilliseconds(afterFailures: failures, using: &generator)
    }
}
