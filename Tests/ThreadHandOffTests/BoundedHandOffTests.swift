import Capture
import Synchronization
import Testing
import ThreadHandOff

#if canImport(Glibc)
import Glibc
#endif

@Suite("A bounded hand-off between two threads")
struct BoundedHandOffTests {
    struct ReadFailed: Error, Equatable {
        var line: Int
    }

    /// What the consumer got, in order: values, then nil or the producer's error.
    static func drain(_ queue: BoundedHandOff<[Int]>) -> (values: [Int], failure: (any Error)?) {
        var values: [Int] = []
        do {
            while let batch = try queue.take() { values += batch }
            return (values, nil)
        } catch {
            return (values, error)
        }
    }

    /// Runs `body` on a thread of its own and gives back what it returns. A consumer that waits
    /// on the hand-off blocks its thread: on one of Swift Testing's few pool threads, that held
    /// up the suite's other tests (a forwarding test's timed wait ran out).
    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DetachedThread.start { continuation.resume(returning: body()) }
        }
    }

    @Test func valuesArriveInTheOrderTheyWerePutAndTheEndAfterThem() async {
        let queue = BoundedHandOff<[Int]>(capacity: 3)
        DetachedThread.start {
            for start in stride(from: 0, to: 10_000, by: 7) { queue.put(Array(start..<min(start + 7, 10_000))) }
            queue.finish()
        }
        let (values, failure) = await Self.onOwnThread { Self.drain(queue) }
        #expect(values == Array(0..<10_000))
        #expect(failure == nil)
        // The end stays the end: asking again neither waits nor invents a value.
        #expect((try? queue.take()) == .some(nil))
    }

    @Test func theProducersErrorReachesTheConsumerAfterTheValuesPutBeforeIt() async {
        let queue = BoundedHandOff<[Int]>(capacity: 2)
        DetachedThread.start {
            for value in 0..<5 { queue.put([value]) }
            queue.finish(throwing: ReadFailed(line: 6))
        }
        let (values, failure) = await Self.onOwnThread { Self.drain(queue) }
        #expect(values == [0, 1, 2, 3, 4])
        #expect(failure as? ReadFailed == ReadFailed(line: 6))
    }

    @Test func anEmptyInputEndsAtOnce() {
        let queue = BoundedHandOff<[Int]>(capacity: 1)
        queue.finish()
        let (values, failure) = Self.drain(queue)
        #expect(values.isEmpty && failure == nil)
    }

    @Test func theProducerWaitsWhileTheQueueIsFull() throws {
        let queue = BoundedHandOff<[Int]>(capacity: 4)
        let counter = PutCounter()
        let waitedAt = Mutex<[Int]>([])
        DetachedThread.start {
            for value in 0..<10 {
                if queue.put([value]) { waitedAt.withLock { $0.append(value) } }
                counter.count.add(1, ordering: .releasing)
            }
            queue.finish()
        }
        // The producer fills the queue and stops there while nobody takes.
        try Self.waitUntil { counter.count.load(ordering: .acquiring) == 4 }
        usleep(100_000)
        #expect(counter.count.load(ordering: .acquiring) == 4)
        #expect(queue.waiting == 4)
        // The producer is woken once half the queue is free, not at each value taken: one
        // value taken leaves it waiting...
        #expect(try queue.take() == [0])
        usleep(100_000)
        #expect(counter.count.load(ordering: .acquiring) == 4)
        #expect(queue.waiting == 3)
        // ...the second one (half of 4 free) lets it fill the queue again.
        #expect(try queue.take() == [1])
        try Self.waitUntil { counter.count.load(ordering: .acquiring) == 6 }
        usleep(50_000)
        #expect(counter.count.load(ordering: .acquiring) == 6)
        #expect(queue.waiting == 4)
        let (rest, failure) = Self.drain(queue)
        #expect(rest == Array(2..<10) && failure == nil)
        // The put that found the queue full says so: the fifth, at least (later ones depend on
        // how fast the drain went).
        #expect(waitedAt.withLock { $0.first } == 4)
    }

    @Test func aConsumerAsleepOnAnEmptyQueueIsWokenOnceHalfOfItIsFull() throws {
        let queue = BoundedHandOff<[Int]>(capacity: 4)
        let taken = PutCounter()
        DetachedThread.start {
            while (try? queue.take()) != nil { taken.count.add(1, ordering: .releasing) }
        }
        try Self.waitUntil { queue.consumerIsWaiting }
        // The producer learns it once that the consumer ran dry.
        #expect(queue.consumerWaitedSinceAsked())
        #expect(!queue.consumerWaitedSinceAsked())
        #expect(!queue.put([0]))
        usleep(100_000)
        // One value of four: the consumer sleeps on, and the producer knows it is the faster side.
        #expect(queue.consumerIsWaiting)
        #expect(taken.count.load(ordering: .acquiring) == 0)
        queue.put([1])
        try Self.waitUntil { taken.count.load(ordering: .acquiring) == 2 }
        try Self.waitUntil { queue.consumerIsWaiting }
        // The end wakes it whatever is queued.
        queue.put([2])
        queue.finish()
        try Self.waitUntil { taken.count.load(ordering: .acquiring) == 3 && !queue.consumerIsWaiting }
    }

    @Test func aQueueOfOneHandsOverEveryValueInOrder() async {
        let queue = BoundedHandOff<[Int]>(capacity: 1)
        DetachedThread.start {
            for value in 0..<5_000 { queue.put([value]) }
            queue.finish()
        }
        let (values, failure) = await Self.onOwnThread { Self.drain(queue) }
        #expect(values == Array(0..<5_000))
        #expect(failure == nil)
    }

    /// Both sides run at uneven, changing speeds, so each of them waits for the other many times
    /// (a lost waking would hang the test): every value arrives once, in order.
    @Test(arguments: [1, 2, 3, 8])
    func unevenSidesLoseNothingAndNeverHang(capacity: Int) async {
        let queue = BoundedHandOff<[Int]>(capacity: capacity)
        let count = 10_000
        DetachedThread.start {
            for value in 0..<count {
                if value % 1_000 < 300 { Self.spin(value % 7 * 200) }
                queue.put([value])
            }
            queue.finish()
        }
        let values = await Self.onOwnThread {
            var values: [Int] = []
            values.reserveCapacity(count)
            while let batch = try? queue.take() {
                let value = batch[0]
                if (value + 500) % 1_000 < 300 { Self.spin(value % 5 * 200) }
                values.append(value)
            }
            return values
        }
        #expect(values == Array(0..<count))
    }

    /// Taking without waiting gives nil on an empty queue, else the first value, in order; and
    /// a producer asleep on a full queue is woken by it, as by a take (a lost waking would hang).
    @Test func takingWithoutWaitingGivesWhatIsThereInOrder() async {
        let idle = BoundedHandOff<[Int]>(capacity: 2)
        #expect(idle.takeIfAny() == nil)
        idle.put([1])
        #expect(idle.takeIfAny() == [1])
        #expect(idle.takeIfAny() == nil)

        let queue = BoundedHandOff<[Int]>(capacity: 3)
        let count = 5_000
        DetachedThread.start {
            for value in 0..<count { queue.put([value]) }
            queue.finish()
        }
        // Whatever is there is taken without waiting; only an empty queue makes this side wait
        // (no busy polling: the other tests share the CPUs).
        let values = await Self.onOwnThread {
            var values: [Int] = []
            while values.count < count {
                if let batch = queue.takeIfAny() {
                    values += batch
                } else if let batch = try? queue.take() {
                    values += batch
                }
            }
            return values
        }
        #expect(values == Array(0..<count))
        #expect(queue.takeIfAny() == nil)
        #expect((try? queue.take()) == .some(nil))
    }

    /// Values still queued when the hand-off goes are released with it.
    @Test func valuesLeftInTheQueueAreReleasedWithIt() {
        let releases = Releases()
        do {
            let queue = BoundedHandOff<Releases.Token>(capacity: 4)
            for _ in 0..<3 { queue.put(Releases.Token(releases)) }
            _ = try? queue.take()
            #expect(releases.count.load(ordering: .acquiring) == 1)
        }
        #expect(releases.count.load(ordering: .acquiring) == 3)
    }

    final class Releases: Sendable {
        let count = Atomic<Int>(0)
        final class Token: Sendable {
            let releases: Releases
            init(_ releases: Releases) { self.releases = releases }
            deinit { releases.count.add(1, ordering: .releasing) }
        }
    }

    static func spin(_ rounds: Int) {
        var sink = 0
        for round in 0..<rounds { sink &+= round &* 31 }
        withExtendedLifetime(sink) {}
    }

    final class PutCounter: Sendable {
        let count = Atomic<Int>(0)
    }

    struct TimedOut: Error {}

    static func waitUntil(_ condition: () -> Bool) throws {
        for _ in 0..<500 {
            if condition() { return }
            usleep(10_000)
        }
        throw TimedOut()
    }
}
