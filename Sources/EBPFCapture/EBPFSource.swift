import Capture
import ExecEvents
import ProcCapture

#if canImport(Glibc)
import Glibc
#endif

/// Executions from the kernel through an eBPF probe on `tp_btf/sched_process_exec`: the source
/// that costs the host's other system calls nothing (audit taxes every one). Needs the kernel's
/// BTF and CAP_BPF + CAP_PERFMON to load (Linux 5.19+: `bpf_loop`, ring buffer dynptrs); keeps no
/// capability after.
///
/// Everything is read in the kernel at the exec (argv byte for byte up to 256 KiB, the executable
/// and working directory paths, ids, terminal), so a process that exits at once is still complete.
/// Records the ring had no room for, and reads of a process's memory that failed, are counted per
/// CPU in the kernel and shown as `kernelLost`.
public final class EBPFSource: CaptureSource {
    public struct Configuration: Sendable {
        /// `hostName` of every event.
        public var hostName: String
        /// The name of a uid, nil when unknown (such a uid is then named by its number).
        public var userName: @Sendable (UInt32) -> String?
        /// The ring buffer between the probe and the agent: a power of two, at least a page.
        public var ringBufferBytes: Int
        /// The kernel BTF to load against; nil: the running kernel's (`/sys/kernel/btf/vmlinux`).
        public var btfPath: String?
        /// Run on the capture thread once the probe is attached (the agent then drops privileges).
        public var whenSetUp: @Sendable () -> Void
        /// After this long without a record, the sink is told it is idle (and loss is read).
        public var idleInterval: Duration
        /// While records keep coming, the ring is drained this often instead of at every record:
        /// the agent wakes once per interval, not once per exec. Only execs of programs no rule
        /// names wait (at most this long): the probe wakes the agent at once for the others (the
        /// sink's ``CaptureSink/promptPrograms``). After an interval without records it sleeps
        /// until the next record wakes it.
        public var batchInterval: Duration

        public init(
            hostName: String? = nil,
            userName: @escaping @Sendable (UInt32) -> String? = ProcessSnapshotReader.Configuration.userDatabase,
            ringBufferBytes: Int = EBPFSource.defaultRingBufferBytes,
            btfPath: String? = nil,
            whenSetUp: @escaping @Sendable () -> Void = {},
            idleInterval: Duration = .seconds(1),
            batchInterval: Duration = .milliseconds(100)
        ) {
            self.hostName = hostName ?? LocalHost.name
            self.userName = userName
            self.ringBufferBytes = ringBufferBytes
            self.btfPath = btfPath
            self.whenSetUp = whenSetUp
            self.idleInterval = idleInterval
            self.batchInterval = batchInterval
        }

        /// ``batchInterval`` in whole milliseconds, at least 1 (poll's unit).
        var batchMilliseconds: Int32 {
            let batch = batchInterval.components
            return Int32(clamping: max(1, batch.seconds * 1000 + batch.attoseconds / 1_000_000_000_000_000))
        }
    }

    /// 2 MiB: libbpf maps the ring's pages twice and all of them are resident from the start,
    /// so the ring costs twice its size in RSS (16 MiB cost 32 MB). This one holds about ten
    /// thousand ordinary execs (~200 bytes each: several seconds at this machine's top rate)
    /// or seven with the most arguments the probe sends (256 KiB in 16 chunks).
    public static let defaultRingBufferBytes = 2 << 20

    public let name = "ebpf"
    public let counters = CaptureCounters()
    public let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// What this source cannot see, for the agent's status.
    public var limitation: String {
        "failed execs are not seen (the probe runs on successful execs only); "
            + "arguments beyond 256 KiB are cut (counted as truncated); "
            + "under a stream of execs, those of programs no rule names reach the rules within "
            + "\(configuration.batchMilliseconds) ms (the others at once)"
    }

    /// Whether the probe loads here (kernel BTF, capabilities, the verifier): nil when it does,
    /// else why not. Loads it and unloads it at once.
    public static func unavailability(ringBufferBytes: Int, btfPath: String?) -> String? {
        do {
            _ = try LoadedProbe(ringBufferBytes: ringBufferBytes, btfPath: btfPath)
            return nil
        } catch {
            return error.description
        }
    }

    /// Loads and attaches the probe, delivers executions until `stop` is signalled, then detaches
    /// and unloads it.
    public func run(into sink: any CaptureSink, until stop: StopSignal) throws {
        var probe = try LoadedProbe(ringBufferBytes: configuration.ringBufferBytes, btfPath: configuration.btfPath)
        let reader = RingReader(
            assembler: ExecRecordAssembler(
                hostName: configuration.hostName,
                userName: configuration.userName,
                counters: counters,
                live: RunningProcessReader()
            ),
            sink: sink,
            counters: counters
        )
        let context = Unmanaged.passRetained(reader)
        defer { context.release() }
        try probe.attach(
            handle: { context, data, size in
                guard let context, let data else { return 0 }
                let reader = Unmanaged<RingReader>.fromOpaque(context).takeUnretainedValue()
                reader.take(UnsafeRawBufferPointer(start: data, count: size))
                return 0
            },
            context: context.toOpaque()
        )
        probe.wakesAtOnce(for: sink.promptPrograms)
        configuration.whenSetUp()

        var descriptors = [
            pollfd(fd: probe.descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stop.descriptor, events: Int16(POLLIN), revents: 0),
        ]
        let idleMilliseconds = Int32(clamping: configuration.idleInterval.components.seconds * 1000)
        let batchMilliseconds = configuration.batchMilliseconds
        // Draining: the probe does not wake the agent for each record (only for the execs of
        // programs rules name, and when the ring fills up); it drains every batch interval. Else
        // it sleeps until a record wakes it. It starts draining when records wake it less than a
        // batch interval apart: at lower rates a wake-up per record costs less than a timer besides.
        var draining = false
        let batchNanoseconds = UInt64(batchMilliseconds) * 1_000_000
        var lastWokenAt: UInt64 = 0
        var lossReadAt = MonotonicClock.milliseconds()
        while true {
            let ready = poll(&descriptors, 2, draining ? batchMilliseconds : idleMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw CaptureError(operation: "poll", errno: errno)
            }
            if descriptors[1].revents != 0 { break }
            if try probe.consume() > 0 {
                if !draining {
                    let now = MonotonicClock.nanoseconds()
                    if now &- lastWokenAt < batchNanoseconds {
                        draining = true
                        probe.wakesOnEveryRecord(false)
                    }
                    lastWokenAt = now
                }
            } else if draining {
                // A batch interval without records: sleep until one wakes the agent. A record
                // reserved before the flag was set is seen by this consume (or makes poll ready).
                probe.wakesOnEveryRecord(true)
                draining = false
                if try probe.consume() > 0 {
                    draining = true
                    probe.wakesOnEveryRecord(false)
                }
            } else if ready == 0 {
                sink.idle(now: EventTime.now)
            }
            probe.wakesAtOnce(for: sink.promptPrograms)  // after a rule reload the sink took
            let now = MonotonicClock.milliseconds()
            if ready == 0 && !draining || now - lossReadAt >= 1000 {
                lossReadAt = now
                counters.kernelLost.set(probe.lostCounts())
            }
        }
        counters.kernelLost.set(probe.lostCounts())
    }
}

/// What the ring buffer's callback reaches: the assembler and the sink, used on the capture
/// thread only (the callback runs inside `ring_buffer__consume`).
private final class RingReader {
    var assembler: ExecRecordAssembler
    let sink: any CaptureSink
    let counters: CaptureCounters

    init(assembler: ExecRecordAssembler, sink: any CaptureSink, counters: CaptureCounters) {
        self.assembler = assembler
        self.sink = sink
        self.counters = counters
    }

    func take(_ record: UnsafeRawBufferPointer) {
        assembler.take(record) { probe, complete in
            sink.exec(probe: probe, complete: complete)
            counters.delivered.count()
        }
    }
}
