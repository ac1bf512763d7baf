import Capture
import ExecEvents

#if canImport(Glibc)
import Glibc
#endif

/// Executions from the kernel's proc connector (`NETLINK_CONNECTOR`, `PROC_EVENT_EXEC`), each read
/// from /proc at once: the source for hosts without audit. Needs CAP_NET_ADMIN.
///
/// A process that exits before /proc can be read is counted in `processesGone`, not delivered;
/// messages the kernel dropped because the socket was full are counted in `socketOverruns` (once
/// per overrun, not per message).
///
/// Sendable without `@unchecked`: the configuration is immutable, the counters are atomic, and the
/// socket, buffers and caches are created by ``run(into:until:)`` on the capture thread.
public final class ProcConnectorSource: CaptureSource {
    public let name = "proc-connector"
    public let counters = CaptureCounters()
    /// How events are filled in (host name, user names).
    public let snapshotConfiguration: ProcessSnapshotReader.Configuration
    /// The socket's receive buffer: room for bursts while the capture thread reads /proc.
    public let receiveBufferBytes: Int
    /// After this long without a message, the sink is told it is idle.
    public let idleInterval: Duration
    /// Run on the capture thread once the subscription is made: from then on every exec is
    /// reported (the agent then says it is running).
    public let whenSetUp: @Sendable () -> Void

    public init(
        snapshotConfiguration: ProcessSnapshotReader.Configuration = .init(),
        receiveBufferBytes: Int = 4 << 20,
        idleInterval: Duration = .seconds(1),
        whenSetUp: @escaping @Sendable () -> Void = {}
    ) {
        self.snapshotConfiguration = snapshotConfiguration
        self.receiveBufferBytes = receiveBufferBytes
        self.idleInterval = idleInterval
        self.whenSetUp = whenSetUp
    }

    /// What this source cannot see, for the agent's status.
    public var limitation: String {
        "arguments and user are read from /proc when the kernel reports the exec: "
            + "a process that exits first is counted as gone, not reported"
    }

    /// Subscribes to exec events, delivers them until `stop` is signalled, then unsubscribes.
    public func run(into sink: any CaptureSink, until stop: StopSignal) throws {
        var session = try ProcConnectorSession(
            socket: ProcConnectorSocket(receiveBufferBytes: receiveBufferBytes),
            reader: ProcessSnapshotReader(configuration: snapshotConfiguration),
            counters: counters,
            sink: sink
        )
        try session.subscribe()
        defer { session.unsubscribe() }
        whenSetUp()

        var descriptors = [
            pollfd(fd: session.descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stop.descriptor, events: Int16(POLLIN), revents: 0),
        ]
        let idleMilliseconds = Int32(clamping: idleInterval.milliseconds)
        while true {
            let ready = poll(&descriptors, 2, idleMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw CaptureError(operation: "poll", errno: errno)
            }
            if descriptors[1].revents != 0 { return }
            if ready == 0 {
                sink.idle(now: EventTime.now)
                continue
            }
            if try session.receiveWaiting(until: stop) == .stopped { return }
        }
    }
}

extension Duration {
    /// Whole milliseconds (rounded down).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
