import CLibbpf
import Capture

#if canImport(Glibc)
import Glibc
#endif

/// The exec probe loaded into the kernel and attached, with its ring buffer open. Closing it
/// (deinit) detaches and unloads the program: nothing of it stays in the kernel.
///
/// Loading needs CAP_BPF and CAP_PERFMON (Linux 5.8+) and the kernel's BTF; once attached, reading
/// the ring and the counters needs no capability.
struct LoadedProbe: ~Copyable {
    private let object: OpaquePointer
    private var link: OpaquePointer?
    private var ring: OpaquePointer?
    private let lostMap: Int32

    /// The kernel's BTF, unless configured otherwise.
    static let kernelBTF = "/sys/kernel/btf/vmlinux"
    /// Capability numbers (linux/capability.h).
    static let perfmon = 38
    static let bpf = 39

    /// Opens the embedded object, sizes its ring, and loads it (the verifier checks it).
    /// - Parameter btfPath: the kernel BTF to relocate against; nil: the running kernel's.
    init(ringBufferBytes: Int, btfPath: String?) throws(CaptureError) {
        if let missing = Self.missingPrerequisite(btfPath: btfPath) {
            throw CaptureError(operation: "load the eBPF probe", errno: 0, detail: missing)
        }
        execwatch_libbpf_keep_last_warning()
        let bytes = Self.objectBytes()
        let opened = bytes.withUnsafeBytes { raw in
            execwatch_bpf_object_open(raw.baseAddress, raw.count, "execwatch", btfPath)
        }
        guard let opened else { throw Self.failure("open the eBPF probe", errno) }
        guard let records = bpf_object__find_map_by_name(opened, "records"),
            bpf_map__set_max_entries(records, UInt32(clamping: ringBufferBytes)) == 0
        else {
            let code = errno
            bpf_object__close(opened)
            throw Self.failure("size the eBPF ring buffer to \(ringBufferBytes) bytes", code)
        }
        let loaded = bpf_object__load(opened)
        guard loaded == 0 else {
            bpf_object__close(opened)
            throw Self.failure("load the eBPF probe", -loaded)
        }
        object = opened
        lostMap = bpf_object__find_map_fd_by_name(opened, "lost")
    }

    deinit {
        if let ring { ring_buffer__free(ring) }
        if let link { bpf_link__destroy(link) }
        bpf_object__close(object)
    }

    /// Attaches the program to `sched_process_exec` and opens the ring buffer, whose records go to
    /// `handle` (called from ``consume()`` on this thread).
    mutating func attach(
        handle: @escaping @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int) -> Int32,
        context: UnsafeMutableRawPointer
    ) throws(CaptureError) {
        guard let program = bpf_object__find_program_by_name(object, "exec_probe"),
            let attached = bpf_program__attach(program)
        else { throw Self.failure("attach the eBPF probe to sched_process_exec", errno) }
        link = attached
        let records = bpf_object__find_map_fd_by_name(object, "records")
        guard let opened = ring_buffer__new(records, handle, context, nil) else {
            throw Self.failure("open the eBPF ring buffer", errno)
        }
        ring = opened
    }

    /// Poll this for `POLLIN`: records are waiting.
    var descriptor: Int32 { ring.map { ring_buffer__epoll_fd($0) } ?? -1 }

    /// Hands every waiting record to the handler.
    func consume() throws(CaptureError) {
        guard let ring else { return }
        let consumed = ring_buffer__consume(ring)
        if consumed < 0, -consumed != EINTR { throw CaptureError(operation: "ring_buffer__consume", errno: -consumed) }
    }

    /// Records the probe could not write (ring full) plus reads of process memory that failed,
    /// summed over CPUs.
    func lostCounts() -> Int {
        let cpus = Int(libbpf_num_possible_cpus())
        guard cpus > 0, lostMap >= 0 else { return 0 }
        var values = [UInt64](repeating: 0, count: cpus)
        func sum(_ key: UInt32) -> Int {
            var key = key
            guard bpf_map_lookup_elem(lostMap, &key, &values) == 0 else { return 0 }
            return Int(truncatingIfNeeded: values.reduce(0, &+))
        }
        return sum(0) + sum(1)
    }

    /// Why the probe cannot be loaded here, checked before asking libbpf (whose answer is terser).
    static func missingPrerequisite(btfPath: String?) -> String? {
        let btf = btfPath ?? kernelBTF
        if access(btf, R_OK) != 0 {
            return btfPath == nil
                ? "the kernel has no BTF (\(btf) is missing; needs CONFIG_DEBUG_INFO_BTF)"
                : "the BTF file \(btf) (ebpf.btfPath) cannot be read: \(String(cString: strerror(errno)))"
        }
        let effective = EffectiveCapabilities(of: .calling) ?? EffectiveCapabilities(mask: 0)
        let missing = [(bpf, "CAP_BPF"), (perfmon, "CAP_PERFMON")].filter { !effective.contains($0.0) }
        if !missing.isEmpty {
            return "\(missing.map(\.1).joined(separator: " and ")) \(missing.count == 1 ? "is" : "are") missing"
        }
        return nil
    }

    /// The compiled probe, from the hexadecimal the build embedded.
    static func objectBytes() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(execProbeObject.utf8.count / 2)
        var high: UInt8?
        for digit in execProbeObject.utf8 {
            let value = digit <= UInt8(ascii: "9") ? digit &- UInt8(ascii: "0") : digit &- UInt8(ascii: "a") &+ 10
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }

    /// A libbpf failure with libbpf's own last warning as the detail.
    private static func failure(_ operation: String, _ code: Int32) -> CaptureError {
        let warning = String(cString: execwatch_libbpf_last_warning_text())
        return CaptureError(operation: operation, errno: code, detail: warning.isEmpty ? nil : "libbpf: \(warning)")
    }
}
