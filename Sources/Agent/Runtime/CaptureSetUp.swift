import CLibcap
import Capture
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The moment the capture source is set up (its sockets open, its audit changes made), on the
/// capture thread: privileges are dropped there (see ``PrivilegeDrop``), and from then on
/// `status` says the source is running.
///
/// Made before the source is chosen, because the source reports its set-up through
/// ``sourceIsSetUp()``; told which source was chosen (``use(_:)``) before the source runs, since
/// what the capture thread keeps depends on it.
final class CaptureSetUp: Sendable {
    /// Stops the capture source: signalled when the agent stops, or here when privileges cannot be
    /// dropped.
    let stop: StopSignal
    private let user: PrivilegeDrop.User?
    private let logger: Logger
    private let sourceName = Mutex<String>("")
    private let happened = Atomic<Bool>(false)
    private let thread = Atomic<Int32>(0)
    private let running = Atomic<Bool>(false)
    private let dropFailure = Mutex<CaptureError?>(nil)

    init(user: PrivilegeDrop.User?, logger: Logger) throws(CaptureError) {
        self.stop = try StopSignal()
        self.user = user
        self.logger = logger
    }

    /// The source chosen: the capture thread keeps the capabilities it needs.
    func use(_ source: any CaptureSource) {
        sourceName.withLock { $0 = source.name }
    }

    /// Called on the capture thread once the source is set up; later calls do nothing.
    func sourceIsSetUp() {
        guard !happened.exchange(true, ordering: .acquiringAndReleasing) else { return }
        thread.store(gettid(), ordering: .relaxed)
        let keep = PrivilegeDrop.capabilities(forSource: sourceName.withLock { $0 })
        do {
            try PrivilegeDrop.apply(keep: keep, user: user)
            logger.info(
                "privileges dropped",
                metadata: ["kept": "\(keep.map(\.name))", "user": "\(user?.name ?? "root (unchanged)")"]
            )
        } catch {
            // The capture stops; the agent then fails with this reason (see CaptureService).
            dropFailure.withLock { $0 = error }
            stop.signal()
            return
        }
        StartupCodePages.release()
        logger.info("start-up code pages released", metadata: ["KiB": "\(StartupCodePages.released >> 10)"])
        running.store(true, ordering: .releasing)
    }

    /// Why privileges could not be dropped once the source was set up (the capture stopped
    /// then); nil when they were, or not yet.
    var failure: CaptureError? { dropFailure.withLock { $0 } }

    /// Whether the source is set up and capturing (privileges dropped).
    var isRunning: Bool { running.load(ordering: .acquiring) }

    /// The capture thread's id once it is set up (0 before): its capabilities are what `status` shows.
    var captureThread: Int32 { thread.load(ordering: .relaxed) }
}
