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

    @Test func valuesArriveInTheOrderTheyWerePutAndTheEndAfterThem() {
        let queue = BoundedHandOff<[Int]>(capacity: 3)
        DetachedThread.start {
            for start in stride(from: 0, to: 10_000, by: 7) { queue.put(Array(start..<min(start + 7, 10_000))) }
            queue.finish()
        }
        let (values, failure) = Self.drain(queue)
        #expect(values == Array(0..<10_000))
        #expect(failure == nil)
        // The end stays the end: asking again neither waits nor invents a value.
        #expect((try? queue.take()) == .some(nil))
    }

    @Test func theProducersErrorReachesTheConsumerAfterTheValuesPutBeforeIt() {
        let queue = BoundedHandOff<[Int]>(capacity: 2)
        DetachedThread.start {
            for value in 0..<5 { queue.put([value]) }
            queue.finish(throwing: ReadFailed(line: 6))
        }
        let (values, failure) = Self.drain(queue)
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
        DetachedThread.start {
            for value in 0..<10 {
                queue.put([value])
                counter.count.add(1, ordering: .releasing)
            }
            queue.finish()
        }
        // The producer fills the queue and stops there while nobody takes.
        try Self.waitUntil { counter.count.load(ordering: .acquiring) == 4 }
        usleep(100_000)
        #expect(counter.count.load(ordering: .acquiring) == 4)
        #expect(queue.waiting == 4)
        // Each value taken lets exactly one more in.
        #expect(try queue.take() == [0])
        try Self.waitUntil { counter.count.load(ordering: .acquiring) == 5 }
        usleep(50_000)
        #expect(counter.count.load(ordering: .acquiring) == 5)
        #expect(queue.waiting == 4)
        let (rest, failure) = Self.drain(queue)
        #expect(rest == Array(1..<10) && failure == nil)
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
