#if canImport(Glibc)
import Glibc
#endif

/// Starts a thread of its own for blocking work (a capture loop, a small server), without
/// Foundation's `Thread` (Foundation would bring its internationalization, ICU, into the agent).
public enum DetachedThread {
    public static func start(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(
            &thread,
            nil,
            { raw in
                let body = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
                body.run()
                return nil
            },
            context
        )
        guard created == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            fatalError("pthread_create failed: \(created)")  // out of threads: nothing sensible to do
        }
        pthread_detach(thread)
    }
}

private final class ThreadBody: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}
