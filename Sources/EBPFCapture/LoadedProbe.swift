import CLibbpf
import Capture

#if canImport(Glibc)
import Glibc
#endif

/// The exec probe loaded into the kernel and attached, with its ring buffer open once
/// ``attach(handle:context:)`` is called. Closing it (deinit) detaches and unloads the program:
/// nothing of it stays in the kernel.
///
/// Loading needs CAP_BPF and CAP_PERFMON (Linux 5.8+) and the kernel's BTF; once attached, reading
/// the ring and the counters needs no capability. libbpf loads it in a child process
/// (`execwatch_load_probe_in_child`), which hands over the descriptors of the program's link and
/// of the maps: the kernel BTF libbpf reads to relocate the probe (twice 5 MB) never counts in the
/// agent's memory.
struct LoadedProbe: ~Copyable {
    private let link: Int32
    private let records: Int32
    private let lostMap: Int32
    private let consumerMap: Int32
    private let promptNamesMap: Int32
    /// The probe's `consumer` state, mapped: [0] is 1 while the agent sleeps until a record wakes
    /// it, [1] is 1 while every exec wakes it at once (not only those in `prompt_names`).
    private let consumerFlag: UnsafeMutablePointer<UInt32>
    /// What ``wakesAtOnce(for:)`` was last told, and the keys it put in `prompt_names`.
    private var promptPrograms: Set<String>?? = .none
    private var promptKeys: Set<[UInt8]> = []
    private var ring: OpaquePointer?

    /// The kernel's BTF, unless configured otherwise.
    static let kernelBTF = "/sys/kernel/btf/vmlinux"
    /// Capability numbers (linux/capability.h).
    static let perfmon = 38
    static let bpf = 39

    /// Opens the embedded object, sizes its ring, loads it (the verifier checks it) and attaches
    /// it to `sched_process_exec`: records wait in the ring from then on.
    /// - Parameter btfPath: the kernel BTF to relocate against; nil: the running kernel's.
    init(ringBufferBytes: Int, btfPath: String?) throws(CaptureError) {
        if let missing = Self.missingPrerequisite(btfPath: btfPath) {
            throw CaptureError(operation: "load the eBPF probe", errno: 0, detail: missing)
        }
        let bytes = Self.objectBytes()
        var descriptors = execwatch_probe_descriptors(link: -1, records: -1, lost: -1, consumer: -1, prompt_names: -1)
        var step: Int32 = 0
        let warningCapacity = 512
        var warning = [CChar](repeating: 0, count: warningCapacity)
        let code = bytes.withUnsafeBytes { raw in
            execwatch_load_probe_in_child(
                raw.baseAddress,
                raw.count,
                "execwatch",
                btfPath,
                "records",
                UInt32(clamping: ringBufferBytes),
                "lost",
                "consumer",
                "prompt_names",
                "exec_probe",
                &descriptors,
                &step,
                &warning,
                warningCapacity
            )
        }
        guard code == 0 else {
            let text = String(decoding: warning.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let operation =
                switch UInt32(step) {
                case EXECWATCH_PROBE_OPEN.rawValue: "open the eBPF probe"
                case EXECWATCH_PROBE_SIZE_RING.rawValue: "size the eBPF ring buffer to \(ringBufferBytes) bytes"
                case EXECWATCH_PROBE_LOAD.rawValue: "load the eBPF probe"
                case EXECWATCH_PROBE_ATTACH.rawValue: "attach the eBPF probe to sched_process_exec"
                default: "load the eBPF probe in a child process"
                }
            throw CaptureError(operation: operation, errno: code, detail: text.isEmpty ? nil : "libbpf: \(text)")
        }
        guard let flag = execwatch_map_consumer_flag(descriptors.consumer) else {
            let code = errno
            for descriptor in [
                descriptors.link, descriptors.records, descriptors.lost, descriptors.consumer, descriptors.prompt_names,
            ] {
                close(descriptor)
            }
            throw CaptureError(operation: "map the eBPF probe's consumer flag", errno: code)
        }
        link = descriptors.link
        records = descriptors.records
        lostMap = descriptors.lost
        consumerMap = descriptors.consumer
        promptNamesMap = descriptors.prompt_names
        consumerFlag = flag
        execwatch_store_consumer_flag(consumerFlag, 1)
        execwatch_store_consumer_flag(consumerFlag + 1, 1)  // until told which programs rules name
    }

    deinit {
        if let ring { ring_buffer__free(ring) }
        close(link)  // the last reference to the link: the program is detached and unloaded
        execwatch_unmap_consumer_flag(consumerFlag)
        close(records)
        close(lostMap)
        close(consumerMap)
        close(promptNamesMap)
    }

    /// Tells the probe whether the agent sleeps until a record wakes it (`true`), or drains the
    /// ring on a timer of its own (`false`: records then wake it only for the execs
    /// ``wakesAtOnce(for:)`` names and when the ring fills up).
    /// A full barrier: records reserved before it are seen by the next ``consume()``.
    func wakesOnEveryRecord(_ sleeping: Bool) {
        execwatch_store_consumer_flag(consumerFlag, sleeping ? 1 : 0)
    }

    /// Tells the probe which execs wake the agent at once while it drains on its timer: those of
    /// `programs` (names compared ignoring ASCII case, by their first 15 bytes as the kernel's
    /// `comm`; matched against `comm` and the executed file's name), or every exec when nil.
    /// While the names change, and when they cannot all be stored (more than the map holds),
    /// every exec does: never fewer than asked. Cheap when `programs` is the set last given.
    mutating func wakesAtOnce(for programs: Set<String>?) {
        if let told = promptPrograms, told == programs { return }
        promptPrograms = .some(programs)
        execwatch_store_consumer_flag(consumerFlag + 1, 1)
        guard let programs else { return }
        let keys = Set(programs.compactMap(Self.promptKey))
        for key in promptKeys.subtracting(keys) {
            var key = key
            if bpf_map_delete_elem(promptNamesMap, &key) == 0 || errno == ENOENT { promptKeys.remove(key) }
        }
        var stored = true
        var present: UInt8 = 1
        for key in keys.subtracting(promptKeys) {
            var key = key
            guard bpf_map_update_elem(promptNamesMap, &key, &present, 0) == 0 else {  // 0: BPF_ANY
                stored = false
                break
            }
            promptKeys.insert(key)
        }
        if stored { execwatch_store_consumer_flag(consumerFlag + 1, 0) }
    }

    /// The probe's key of a program name: its first 15 bytes folded to lower case (ASCII), NUL
    /// padded to 16 as `comm` is. nil for a name no exec can have (empty, or holding a NUL or `/`).
    static func promptKey(_ name: String) -> [UInt8]? {
        if name.isEmpty || name.utf8.contains(0) || name.utf8.contains(UInt8(ascii: "/")) { return nil }
        var key = name.utf8.prefix(15).map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
        key.append(contentsOf: repeatElement(0, count: 16 - key.count))
        return key
    }

    /// Opens the ring buffer, whose records go to `handle` (called from ``consume()`` on this
    /// thread).
    mutating func attach(
        handle: @escaping @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int) -> Int32,
        context: UnsafeMutableRawPointer
    ) throws(CaptureError) {
        guard let opened = ring_buffer__new(records, handle, context, nil) else {
            throw CaptureError(operation: "open the eBPF ring buffer", errno: errno)
        }
        ring = opened
    }

    /// Poll this for `POLLIN`: records are waiting. The ring map itself, not libbpf's epoll
    /// descriptor: polling the map asks whether the ring holds data, while an epoll descriptor
    /// turns readable only on a wake-up, and records written while the agent drains on its own
    /// timer send none.
    var descriptor: Int32 { records }

    /// Hands every waiting record to the handler; returns how many there were.
    @discardableResult
    func consume() throws(CaptureError) -> Int {
        guard let ring else { return 0 }
        let consumed = ring_buffer__consume(ring)
        if consumed < 0 {
            if -consumed == EINTR { return 0 }
            throw CaptureError(operation: "ring_buffer__consume", errno: -consumed)
        }
        return Int(consumed)
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
}
