import Synchronization

/// A doorbell for the forwarder's loop: ``signal()`` may be rung from any thread, never blocks, and
/// rings coalesce (one pending ring wakes one wait, however many rang).
final class WakeSignal: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Bool, Never>
        var timeout: Task<Void, Never>?
    }

    private struct State {
        var pending = false
        var waiter: Waiter?
        var nextId: UInt64 = 0
        /// A wait whose task was cancelled before it could register.
        var cancelledId: UInt64?
    }

    private let state = Mutex(State())

    /// Rings: wakes the current wait, or the next one if nobody waits.
    func signal() {
        let waiter = state.withLock { state -> Waiter? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        if let waiter {
            waiter.timeout?.cancel()
            waiter.continuation.resume(returning: true)
        }
    }

    /// Waits for a ring, at most `timeout`; returns true when rung (at once if a ring is pending),
    /// false on timeout or when the task is cancelled.
    func wait(timeout: Duration) async -> Bool {
        let id: UInt64? = state.withLock { state in
            if state.pending {
                state.pending = false
                return nil
            }
            state.nextId += 1
            return state.nextId
        }
        guard let id else { return true }
        guard timeout > .zero, !Task.isCancelled else { return false }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let registered = state.withLock { state -> Bool in
                    if state.pending {
                        state.pending = false
                        continuation.resume(returning: true)
                        return false
                    }
                    if state.cancelledId == id {
                        state.cancelledId = nil
                        continuation.resume(returning: false)
                        return false
                    }
                    state.waiter = Waiter(id: id, continuation: continuation)
                    return true
                }
                guard registered else { return }
                let timeoutTask = Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled else { return }
                    self?.end(id)
                }
                let stillWaiting = state.withLock { state -> Bool in
                    guard state.waiter?.id == id else { return false }
                    state.waiter?.timeout = timeoutTask
                    return true
                }
                if !stillWaiting { timeoutTask.cancel() }
            }
        } onCancel: {
            let ended = end(id)
            if !ended { state.withLock { $0.cancelledId = id } }
        }
    }

    /// Ends wait `id` without a ring; false when it is not (or no longer) waiting.
    @discardableResult
    private func end(_ id: UInt64) -> Bool {
        let waiter = state.withLock { state -> Waiter? in
            guard let waiter = state.waiter, waiter.id == id else { return nil }
            state.waiter = nil
            return waiter
        }
        guard let waiter else { return false }
        waiter.timeout?.cancel()
        waiter.continuation.resume(returning: false)
        return true
    }
}
