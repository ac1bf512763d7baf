import Testing

@testable import Forwarding

@Suite("Wake signal")
struct WakeSignalTests {
    @Test func aPendingRingEndsTheNextWaitAtOnceAndRingsCoalesce() async {
        let signal = WakeSignal()
        signal.signal()
        signal.signal()
        signal.signal()
        #expect(await signal.wait(timeout: .seconds(5)))
        let start = ContinuousClock.now
        #expect(await signal.wait(timeout: .milliseconds(30)) == false)
        #expect(ContinuousClock.now - start >= .milliseconds(25))
    }

    @Test func aRingWakesAWaiter() async {
        let signal = WakeSignal()
        // wait(timeout:) says which ended it: true for a ring, false for the (far) timeout.
        async let woken = signal.wait(timeout: .seconds(600))
        try? await Task.sleep(for: .milliseconds(20))
        signal.signal()
        #expect(await woken)
    }

    @Test func cancellationEndsAWait() async {
        let signal = WakeSignal()
        let start = ContinuousClock.now
        let waiter = Task { await signal.wait(timeout: .seconds(600)) }
        try? await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        #expect(await waiter.value == false)
        // Not the 10-minute timeout: the cancellation ended it (the bound is loose for loaded machines).
        #expect(ContinuousClock.now - start < .seconds(120))
        // A task cancelled before it waits does not wait.
        let cancelled = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await signal.wait(timeout: .seconds(10))
        }
        #expect(await cancelled.value == false)
    }
}
