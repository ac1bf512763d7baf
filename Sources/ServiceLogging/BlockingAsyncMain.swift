import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program's async work from a synchronous `main`: a task at the default priority while
/// the main thread waits on a semaphore.
///
/// Not an async `main`, whose task runs at user-initiated priority on Linux (the main thread's):
/// every libdispatch worker thread that runs it, or a task it starts, raises its own priority
/// (nice -2) first, which a service without `CAP_SYS_NICE` may not, so each one logs "Failed to
/// set thread priority for worker thread … errno=13". An async `main` also parks the main thread
/// in `dispatch_main()`, where glibc no longer counts it as a thread: a later switch to another
/// user would leave it with root's credentials.
///
/// libdispatch's own pool monitor still runs on its manager thread, which asks for nice -4 and,
/// refused (no `CAP_SYS_NICE`, no `LimitNICE=`), writes that line to syslog: from every command
/// an unprivileged user runs (`runuser -u execwatch-collector -- execwatch-collector agents add`),
/// it landed in the journal. The monitor works the same at nice 0, so libdispatch's log is off
/// unless `LIBDISPATCH_LOG` is set (e.g. `LIBDISPATCH_LOG=stderr` to see it).
public enum BlockingAsyncMain {
    /// Runs `body` to completion and returns what it returned. Call it from `main` before any
    /// other thread is started (it sets an environment variable libdispatch reads).
    public static func run<Outcome: Sendable>(_ body: sending @escaping () async -> Outcome) -> Outcome {
        setenv("LIBDISPATCH_LOG", "NO", 0)
        let done = DispatchSemaphore(value: 0)
        let box = OutcomeBox<Outcome>()
        Task.detached(priority: .medium) {
            let outcome = await body()
            box.outcome.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return box.outcome.withLock { $0! }
    }
}

/// Carries the outcome from the task to the waiting main thread, behind a mutex.
private final class OutcomeBox<Outcome: Sendable>: Sendable {
    let outcome = Mutex<Outcome?>(nil)
}
