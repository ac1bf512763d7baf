import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Hands values from one producing thread to one consuming thread, in order, through a queue of
/// at most ``capacity`` values: the producer waits while it is full, the consumer while it is
/// empty, so neither side can run away with memory.
///
/// Values are `sending`: once put, the producer can no longer reach one (the compiler checks it),
/// and the consumer is its only owner. The producer ends with ``finish(throwing:)``; the consumer
/// then takes what is left and learns the end (nil) or the producer's error, after the values put
/// before it.
///
/// Putting and taking touch no lock while neither side waits: each side only advances its own
/// counter. A side that has to wait sleeps on a condition, and the other side wakes it only when
/// it sees it asleep, so a value costs no system call while both sides keep up. And a sleeping
/// side is woken only once it has half a queue to work on (the producer half of it free, the
/// consumer half of it full, or the end): one waking per half queue instead of one per value
/// when one side is the slower. (Every waking is a system call and, on a virtual machine, an
/// interrupt to another virtual CPU; the values are batches, so the wait is short.)
///
/// `@unchecked Sendable`: a slot is written only by the producer before it publishes it through
/// `produced` (release), and read only by the consumer after it saw it there (acquire); the slot
/// is handed back through `consumed` the same way. `failure` is written before `finished` is
/// published. The sleeping flags and the counters are sequentially consistent, so a side that
/// goes to sleep and the other side that advances always see one another (no lost waking).
public final class BoundedHandOff<Element>: @unchecked Sendable {
    public let capacity: Int
    /// Values queued (or free slots, for the producer) that wake a sleeping side.
    private let wakingCount: Int
    private let slots: UnsafeMutablePointer<Element>
    /// Values put, ever (written by the producer only).
    private let produced = Atomic<Int>(0)
    /// Values taken, ever (written by the consumer only).
    private let consumed = Atomic<Int>(0)
    private let finished = Atomic<Bool>(false)
    private var failure: (any Error)?
    private let consumerAsleep = Atomic<Bool>(false)
    private let producerAsleep = Atomic<Bool>(false)
    /// Set when the consumer goes to sleep, cleared when the producer asks.
    private let consumerWaited = Atomic<Bool>(false)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let notEmpty: UnsafeMutablePointer<pthread_cond_t>
    private let notFull: UnsafeMutablePointer<pthread_cond_t>

    /// - Parameter capacity: how many values may wait (at least one).
    public init(capacity: Int) {
        precondition(capacity > 0, "a hand-off needs room for one value")
        self.capacity = capacity
        wakingCount = max(1, capacity / 2)
        slots = .allocate(capacity: capacity)
        mutex = .allocate(capacity: 1)
        notEmpty = .allocate(capacity: 1)
        notFull = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(notEmpty, nil)
        pthread_cond_init(notFull, nil)
    }

    deinit {
        let taken = consumed.load(ordering: .acquiring)
        for index in taken..<produced.load(ordering: .acquiring) {
            (slots + index % capacity).deinitialize(count: 1)
        }
        slots.deallocate()
        pthread_cond_destroy(notFull)
        pthread_cond_destroy(notEmpty)
        pthread_mutex_destroy(mutex)
        notFull.deallocate()
        notEmpty.deallocate()
        mutex.deallocate()
    }

    /// Puts a value at the end, waiting while the queue is full. True when it had to wait: the
    /// consumer is the slower side.
    @discardableResult
    public func put(_ value: sending Element) -> Bool {
        precondition(!finished.load(ordering: .relaxed), "a value put after the hand-off finished")
        let index = produced.load(ordering: .relaxed)
        let full = index - consumed.load(ordering: .acquiring) == capacity
        if full { waitForRoom(putting: index) }
        (slots + index % capacity).initialize(to: value)
        produced.store(index + 1, ordering: .sequentiallyConsistent)
        if consumerAsleep.load(ordering: .sequentiallyConsistent),
            index + 1 - consumed.load(ordering: .relaxed) >= wakingCount
        {
            wake(notEmpty)
        }
        return full
    }

    /// No more values will be put; `error`, when given, reaches the consumer after them.
    public func finish(throwing error: (any Error)? = nil) {
        failure = error
        finished.store(true, ordering: .sequentiallyConsistent)
        if consumerAsleep.load(ordering: .sequentiallyConsistent) { wake(notEmpty) }
    }

    /// Takes the first value, waiting while the queue is empty. Nil once the producer finished
    /// and every value was taken; throws the producer's error at that point instead, if it gave one.
    public func take() throws -> sending Element? {
        let index = consumed.load(ordering: .relaxed)
        if produced.load(ordering: .acquiring) == index {
            guard waitForValue(taking: index) else {
                if let failure { throw failure }
                return nil
            }
        }
        return move(taking: index)
    }

    /// Takes the first value if there is one, without waiting: for a side that has other work
    /// and only drains what came back meanwhile.
    public func takeIfAny() -> sending Element? {
        let index = consumed.load(ordering: .relaxed)
        guard produced.load(ordering: .acquiring) != index else { return nil }
        return move(taking: index)
    }

    /// Takes value `index`, there: frees its slot, and wakes the producer once half the queue is free.
    private func move(taking index: Int) -> sending Element {
        let value = (slots + index % capacity).move()
        consumed.store(index + 1, ordering: .sequentiallyConsistent)
        if producerAsleep.load(ordering: .sequentiallyConsistent),
            capacity - (produced.load(ordering: .relaxed) - (index + 1)) >= wakingCount
        {
            wake(notFull)
        }
        return value
    }

    /// Values waiting now (for tests and statistics; it may change as soon as it is read).
    public var waiting: Int {
        let taken = consumed.load(ordering: .acquiring)
        return produced.load(ordering: .acquiring) - taken
    }

    /// Whether the consumer is asleep waiting for values (it is woken once half the queue is full).
    /// For tests; it may change as soon as it is read.
    public var consumerIsWaiting: Bool {
        consumerAsleep.load(ordering: .relaxed)
    }

    /// Whether the consumer ran out of values and went to sleep since the producer last asked:
    /// the consumer is the faster side. Asked by the producer, once per value or so, to pace itself.
    public func consumerWaitedSinceAsked() -> Bool {
        consumerWaited.exchange(false, ordering: .relaxed)
    }

    /// Sleeps until the consumer has taken a value, so that slot `index` is free. The consumer
    /// wakes this side only once half the queue is free.
    private func waitForRoom(putting index: Int) {
        pthread_mutex_lock(mutex)
        producerAsleep.store(true, ordering: .sequentiallyConsistent)
        while index - consumed.load(ordering: .sequentiallyConsistent) == capacity {
            pthread_cond_wait(notFull, mutex)
        }
        producerAsleep.store(false, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
        // Pairs with the consumer's release of the slot it emptied.
        _ = consumed.load(ordering: .acquiring)
    }

    /// Sleeps until value `index` was put (true) or the producer finished without it (false). The
    /// producer wakes this side only once half the queue is full, or at the end.
    private func waitForValue(taking index: Int) -> Bool {
        pthread_mutex_lock(mutex)
        consumerAsleep.store(true, ordering: .sequentiallyConsistent)
        consumerWaited.store(true, ordering: .relaxed)
        while produced.load(ordering: .sequentiallyConsistent) == index
            && !finished.load(ordering: .sequentiallyConsistent)
        {
            pthread_cond_wait(notEmpty, mutex)
        }
        consumerAsleep.store(false, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
        // `finished` is stored after the last value: a value put before it is seen here.
        return produced.load(ordering: .acquiring) != index
    }

    /// Wakes the side sleeping on `condition`. Taking the lock first means the sleeper either has
    /// not yet checked its condition (and will see the change) or is already waiting on it; the
    /// signal comes after the lock is given back, so the woken side does not wake up only to wait
    /// for the lock.
    private func wake(_ condition: UnsafeMutablePointer<pthread_cond_t>) {
        pthread_mutex_lock(mutex)
        pthread_mutex_unlock(mutex)
        pthread_cond_signal(condition)
    }
}
