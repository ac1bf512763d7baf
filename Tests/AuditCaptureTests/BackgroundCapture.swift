import AuditCapture
import Capture
import Foundation
import Synchronization

/// Runs a capture source on a thread of its own, as the agent does, and stops it.
final class BackgroundCapture: Sendable {
    let stop: StopSignal
    private let outcome = Mutex<Result<Void, any Error>?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    init(_ source: any CaptureSource, into sink: RecordingSink) throws {
        stop = try StopSignal()
        Thread.detachNewThread { [self] in
            let result = Result { try source.run(into: sink, until: stop) }
            outcome.withLock { $0 = result }
            finished.signal()
        }
    }

    /// What `run` ended with; nil while it runs.
    var result: Result<Void, any Error>? { outcome.withLock { $0 } }

    /// Waits until `ready` holds, failing early with the source's error when `run` ended.
    func waitUntil(timeoutSeconds: Double = 10, _ ready: () -> Bool) throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutSeconds * 1000))
        while ContinuousClock.now < deadline {
            if case .failure(let error) = result { throw error }
            if result != nil { throw TestFailure("the source returned before it was ready") }
            if ready() { return }
            usleep(20_000)
        }
        throw TestFailure("the source was not ready within \(timeoutSeconds) s")
    }

    /// Waits for `run` to return by itself.
    func waitForEnd(timeoutSeconds: Double) throws -> Result<Void, any Error> {
        guard finished.wait(timeout: .now() + timeoutSeconds) == .success else {
            throw TestFailure("run did not return within \(timeoutSeconds) s")
        }
        finished.signal()  // later waits return at once
        return result!
    }

    /// Signals stop and waits for `run` to return; returns how long that took.
    func stopAndWait(timeoutSeconds: Double = 10) throws -> (result: Result<Void, any Error>, seconds: Double) {
        let start = ContinuousClock.now
        stop.signal()
        let result = try waitForEnd(timeoutSeconds: timeoutSeconds)
        let elapsed = ContinuousClock.now - start
        return (result, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
