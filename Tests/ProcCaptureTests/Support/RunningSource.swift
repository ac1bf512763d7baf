import Capture
import Foundation
import Synchronization

/// A capture source running on its own thread, as the agent runs it; ``stop()`` signals it and
/// waits for ``CaptureSource/run(into:until:)`` to return.
final class RunningSource: Sendable {
    let source: any CaptureSource
    let sink = RecordingSink()
    private let signal: StopSignal
    private let outcome = Outcome()

    /// How the capture thread ended.
    private final class Outcome: Sendable {
        let finished = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
    }

    init(_ source: any CaptureSource) throws {
        self.source = source
        signal = try StopSignal()
        let (sink, signal, outcome) = (sink, signal, outcome)
        let thread = Thread {
            do {
                try source.run(into: sink, until: signal)
            } catch {
                outcome.failure.withLock { $0 = "\(error)" }
            }
            outcome.finished.signal()
        }
        thread.name = "capture"
        thread.start()
    }

    deinit {
        signal.signal()  // a test that failed before stop() leaves no capture thread behind
    }

    /// Signals the source, waits for it to return; returns how long that took, in seconds.
    @discardableResult
    func stop(timeoutSeconds: Double = 5) throws -> Double {
        let started = monotonicSeconds()
        signal.signal()
        guard outcome.finished.wait(timeout: .now() + timeoutSeconds) == .success else {
            throw TestFailure("\(source.name) did not stop within \(timeoutSeconds) s")
        }
        if let failure = outcome.failure.withLock({ $0 }) { throw TestFailure("\(source.name) failed: \(failure)") }
        return monotonicSeconds() - started
    }
}
