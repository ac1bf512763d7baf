import Capture
import ExecEvents

#if canImport(Glibc)
import Glibc
#endif

/// One run of the proc connector source, on the capture thread: the subscribed socket, the
/// /proc reader, and what turns messages into delivered events.
struct ProcConnectorSession: ~Copyable {
    private var socket: ProcConnectorSocket
    private var reader: ProcessSnapshotReader
    private let counters: CaptureCounters
    private let sink: any CaptureSink
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 8)
    /// The sequence number of the listen request, which the kernel's ack repeats.
    private var listenSequence: UInt32 = 0

    /// How often a process that shows no arguments yet is read (1 ms apart) before it counts as gone.
    private static let readAttempts = 3

    enum Outcome {
        case drained
        case stopped
    }

    init(
        socket: consuming ProcConnectorSocket,
        reader: ProcessSnapshotReader,
        counters: CaptureCounters,
        sink: any CaptureSink
    ) {
        self.socket = socket
        self.reader = reader
        self.counters = counters
        self.sink = sink
    }

    deinit {
        buffer.deallocate()
    }

    var descriptor: Int32 { socket.descriptor }

    /// Asks the kernel for exec events. The classic request subscribes on every kernel; the
    /// filtered one (Linux 6.6+; older kernels ignore it) then narrows this socket to execs,
    /// sparing it every fork and exit on the host.
    mutating func subscribe() throws(CaptureError) {
        listenSequence = try socket.send(.listen)
        try socket.send(.listen, eventFilter: ProcConnectorWire.EventKind.exec)
    }

    /// Tells the kernel this socket no longer listens (it stops sending when nobody does).
    mutating func unsubscribe() {
        _ = try? socket.send(.ignore)
    }

    /// Reads every message waiting on the socket; checks `stop` every 64 messages so a flood
    /// cannot delay shutdown.
    mutating func receiveWaiting(until stop: StopSignal) throws(CaptureError) -> Outcome {
        var datagrams = 0
        while true {
            switch try socket.receive(into: buffer) {
            case .wouldBlock:
                return .drained
            case .overrun:
                counters.socketOverruns.count()
            case .foreign:
                counters.malformed.count()
            case .datagram(let length):
                try handle(UnsafeRawBufferPointer(rebasing: buffer[0..<length]))
            }
            datagrams += 1
            if datagrams % 64 == 0, stop.isSignalled { return .stopped }
        }
    }

    /// Delivers the execs in one datagram; fails if it is the kernel refusing our subscription.
    private mutating func handle(_ datagram: UnsafeRawBufferPointer) throws(CaptureError) {
        var refusal: UInt32 = 0
        let malformed = ProcConnectorWire.forEachEvent(in: datagram) { event in
            switch event.what {
            case ProcConnectorWire.EventKind.exec:
                // `process_tgid`: an exec in a thread replaces the whole thread group.
                deliver(pid: Int32(bitPattern: event.second), at: event.timestampNanoseconds)
            case ProcConnectorWire.EventKind.none where event.sequence == listenSequence:
                refusal = event.first  // the ack of our listen request: 0, or an errno
            default:
                break
            }
        }
        if malformed > 0 { counters.malformed.count(malformed) }
        guard refusal == 0 else {
            throw CaptureError(
                operation: "PROC_CN_MCAST_LISTEN",
                errno: Int32(bitPattern: refusal),
                detail: "the kernel refused to send proc events (needs CAP_NET_ADMIN in the initial namespace)"
            )
        }
    }

    /// Reads the process that executed and hands it to the sink.
    private mutating func deliver(pid: Int32, at timestamp: UInt64) {
        let time = MonotonicClock.wallTime(ofNanoseconds: timestamp)
        for attempt in 1...Self.readAttempts {
            switch reader.snapshot(of: pid, time: time) {
            case .taken(let snapshot):
                sink.exec(snapshot.event)
                counters.delivered.count()
                counters.processesEvicted.set(reader.processTableEvictions)
                return
            case .gone:
                counters.processesGone.count()
                return
            case .kernelThread:
                return
            case .notYetReadable:
                if attempt < Self.readAttempts { usleep(1000) }
            }
        }
        counters.processesGone.count()  // it never showed its arguments: it was on its way out
    }
}
