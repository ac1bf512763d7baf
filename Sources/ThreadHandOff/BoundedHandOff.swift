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
/// `@unchecked Sendable`: every stored property but the lock and the conditions is read and
/// written only with `mutex` held.
public final class BoundedHandOff<Element>: @unchecked Sendable {
    public let capacity: Int
    private var slots: [Element?]
    private var head = 0
    private var count = 0
    private var finished = false
    private var failure: (any Error)?
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let notEmpty: UnsafeMutablePointer<pthread_cond_t>
    private let notFull: UnsafeMutablePointer<pthread_cond_t>

    /// - Parameter capacity: how many values may wait (at least one).
    public init(capacity: Int) {
        precondition(capacity > 0, "a hand-off needs room for one value")
        self.capacity = capacity
        slots = Array(repeating: nil, count: capacity)
        mutex = .allocate(capacity: 1)
        notEmpty = .allocate(capacity: 1)
        notFull = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(notEmpty, nil)
        pthread_cond_init(notFull, nil)
    }

    deinit {
        pthread_cond_destroy(notFull)
        pthread_cond_destroy(notEmpty)
        pthread_mutex_destroy(mutex)
        notFull.deallocate()
        notEmpty.deallocate()
        mutex.deallocate()
    }

    /// Puts a value at the end, waiting while the queue is full.
    public func put(_ value: sending Element) {
        pthread_mutex_lock(mutex)
        precondition(!finished, "a value put after the hand-off finished")
        while count == capacity { pthread_cond_wait(notFull, mutex) }
        slots[(head + count) % capacity] = value
        count += 1
        pthread_cond_signal(notEmpty)
        pthread_mutex_unlock(mutex)
    }

    /// No more values will be put; `error`, when given, reaches the consumer after them.
    public func finish(throwing error: (any Error)? = nil) {
        pthread_mutex_lock(mutex)
        finished = true
        failure = error
        pthread_cond_signal(notEmpty)
        pthread_mutex_unlock(mutex)
    }

    /// Takes the first value, waiting while the queue is empty. Nil once the producer finished
    /// and every value was taken; throws the producer's error at that point instead, if it gave one.
    public func take() throws -> sending Element? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while count == 0 && !finished { pthread_cond_wait(notEmpty, mutex) }
        guard count > 0 else {
            if let failure { throw failure }
            return nil
        }
        let value = slots[head].take()
        head = (head + 1) % capacity
        count -= 1
        pthread_cond_signal(notFull)
        return value
    }

    /// Values waiting now (for tests and statistics; it may change as soon as it is read).
    public var waiting: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return count
    }
}
