import Capture
import ExecEvents
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Reads auditd's plugin stream (`format = string`: one audit.log line per record) from a file
/// descriptor, standard input by default, and delivers each line to the sink.
///
/// auditd owns the kernel link and starts the agent as its plugin (`execwatch run --source
/// audisp`); when auditd closes the pipe, `run` returns normally. Lines longer than
/// ``Configuration/maximumLineLength`` are skipped and counted as malformed.
///
/// The source is `Sendable` (checked): its configuration is immutable and the line buffer lives
/// in `run`'s frame on the capture thread.
public final class AudispSource: CaptureSource {
    /// Where the stream comes from and how it is read.
    public struct Configuration: Sendable {
        /// The stream (not closed by the source).
        public var descriptor: Int32 = STDIN_FILENO
        /// How long to wait for data before telling the sink it is idle.
        public var pollTimeoutMilliseconds: Int32 = 200
        /// Longer lines are skipped (records are at most ~10 KB).
        public var maximumLineLength = 1 << 20

        public init(descriptor: Int32 = STDIN_FILENO) {
            self.descriptor = descriptor
        }
    }

    public let name = "audisp"
    public let configuration: Configuration
    public let counters = CaptureCounters()
    private let isRunning = Atomic(false)

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Reads lines until `stop` is signalled or the stream ends.
    public func run(into sink: any CaptureSink, until stop: StopSignal) throws {
        guard isRunning.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else {
            throw CaptureError(operation: "start audisp", errno: EBUSY, detail: "this source is already running")
        }
        defer { isRunning.store(false, ordering: .releasing) }
        let input = configuration.descriptor
        var lines = StreamLineBuffer(maximumLineLength: configuration.maximumLineLength)
        var descriptors = [
            pollfd(fd: input, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stop.descriptor, events: Int16(POLLIN), revents: 0),
        ]
        let counters = self.counters
        let deliver = { (line: UnsafeRawBufferPointer) in
            sink.auditLine(line)
            counters.delivered.count()
        }
        while true {
            let ready = poll(&descriptors, 2, configuration.pollTimeoutMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw CaptureError(operation: "poll(audisp input)", errno: errno)
            }
            if descriptors[1].revents != 0 { return }
            if ready == 0 {
                sink.idle(now: EventTime.now)
                continue
            }
            let count = lines.fill { read(input, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw CaptureError(operation: "read(audisp input)", errno: errno)
            }
            if count == 0 {  // auditd closed the pipe
                lines.finish(deliver)
                return
            }
            lines.takeLines(deliver) { counters.malformed.count() }
        }
    }
}
