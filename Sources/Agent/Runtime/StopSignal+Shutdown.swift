import Capture
import ServiceLifecycle

extension StopSignal {
    /// Runs `body`, which blocks until this signal is given, on a thread of its own, and gives the
    /// signal when the calling service is told to stop (graceful shutdown, or cancellation), after
    /// calling `whenAsked`. Returns what `body` returned.
    func runOnOwnThread<T: Sendable>(
        whenAsked: @escaping @Sendable () -> Void = {},
        _ body: @escaping @Sendable () -> T
    ) async -> T {
        await withTaskCancellationOrGracefulShutdownHandler {
            await withCheckedContinuation { continuation in
                DetachedThread.start { continuation.resume(returning: body()) }
            }
        } onCancelOrGracefulShutdown: {
            whenAsked()
            self.signal()
        }
    }
}
