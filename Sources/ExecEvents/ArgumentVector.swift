/// An argv, held flat: every argument's bytes one after another in one buffer, and where each
/// argument ends in a second. An exec's argv costs two allocations whatever its length (an argv of
/// hundreds of arguments, each an array of its own, cost as many allocations, made on the thread
/// that read the records and freed on the one that wrote the event).
///
/// A collection of the arguments; each is handed out as a new zero-based `[UInt8]`. Code that reads
/// every event's arguments reads them in place (``withArguments(_:)``, ``joinedText(from:)``).
public struct ArgumentVector: Sendable, Hashable, RandomAccessCollection, ExpressibleByArrayLiteral {
    /// The arguments' bytes, without separators.
    public private(set) var bytes: [UInt8]
    /// Where argument `k` ends in ``bytes`` (it starts where argument `k - 1` ends).
    public private(set) var ends: [UInt32]

    public init() {
        bytes = []
        ends = []
    }

    /// The given arguments, in order.
    public init<Arguments: Sequence>(_ arguments: Arguments) where Arguments.Element: Collection<UInt8> {
        self.init()
        for argument in arguments { append(argument) }
    }

    public init(arrayLiteral arguments: [UInt8]...) {
        self.init(arguments)
    }

    /// An argv area as the kernel keeps it (`/proc/PID/cmdline`, `mm->arg_start…arg_end`): each
    /// argument ended by a NUL. The NUL that ends the last argument adds no empty argument; empty
    /// arguments elsewhere are kept. Bytes after the last NUL (an area cut short, or rewritten by
    /// setproctitle without one) are a last argument.
    public init(nulTerminated area: UnsafeRawBufferPointer) {
        self.init()
        bytes.reserveCapacity(area.count)
        var start = 0
        for index in 0..<area.count where area[index] == 0 {
            append(area[start..<index])
            start = index + 1
        }
        if start < area.count { append(area[start..<area.count]) }
    }

    /// Takes over a buffer that already holds the arguments one after another, and their ends
    /// (ascending, the last at most `bytes.count`; bytes past it are dropped).
    public init(bytes: consuming [UInt8], ends: consuming [UInt32]) {
        let used = Int(ends.last ?? 0)
        precondition(used <= bytes.count, "ArgumentVector: ends past the bytes")
        if used < bytes.count { bytes.removeLast(bytes.count - used) }
        self.bytes = bytes
        self.ends = ends
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { ends.count }

    /// Where argument `k` lies in ``bytes``.
    @inline(__always)
    public func range(of k: Int) -> Range<Int> {
        ends.withUnsafeBufferPointer { Self.start(of: k, ends: $0) }..<Int(ends[k])
    }

    /// Where argument `k` starts (`k` up to the count: the end of the last one), given the ends.
    @inline(__always)
    public static func start(of k: Int, ends: UnsafeBufferPointer<UInt32>) -> Int {
        k == 0 ? 0 : Int(ends[k - 1])
    }

    /// A copy of argument `k`.
    public subscript(k: Int) -> [UInt8] {
        Array(bytes[range(of: k)])
    }

    /// Appends an argument.
    public mutating func append(_ argument: some Collection<UInt8>) {
        bytes.append(contentsOf: argument)
        ends.append(UInt32(bytes.count))
    }

    /// Reserves room for `count` arguments of `byteCount` bytes in all.
    public mutating func reserveCapacity(arguments count: Int, bytes byteCount: Int) {
        ends.reserveCapacity(count)
        bytes.reserveCapacity(byteCount)
    }

    /// Calls `body` with the arguments' bytes and their ends, in place.
    @inline(__always)
    public func withArguments<R>(
        _ body: (_ bytes: UnsafeBufferPointer<UInt8>, _ ends: UnsafeBufferPointer<UInt32>) throws -> R
    ) rethrows -> R {
        try bytes.withUnsafeBufferPointer { bytes in try ends.withUnsafeBufferPointer { try body(bytes, $0) } }
    }

    /// The bytes of argument `k` of the buffers ``withArguments(_:)`` gives.
    @inline(__always)
    public static func argument(
        _ k: Int,
        in bytes: UnsafeBufferPointer<UInt8>,
        ends: UnsafeBufferPointer<UInt32>
    ) -> UnsafeBufferPointer<UInt8> {
        let start = start(of: k, ends: ends)
        return UnsafeBufferPointer(rebasing: bytes[start..<Int(ends[k])])
    }

    /// Arguments `first…` joined by single spaces, as text (invalid UTF-8 becomes U+FFFD).
    public func joinedText(from first: Int = 0) -> String {
        let first = Swift.min(first, ends.count)
        guard first < ends.count else { return "" }
        return withArguments { bytes, ends in
            let start = Self.start(of: first, ends: ends)
            let count = bytes.count - start + (ends.count - first - 1)
            guard count > 0 else { return "" }
            // Joined straight into the string's storage, which repairs invalid UTF-8 as
            // String(decoding:) does: each run of arguments copied, a space after each but the last.
            return String(unsafeUninitializedCapacity: count) { text in
                guard let out = text.baseAddress, let source = bytes.baseAddress else {
                    // Empty arguments only: their spaces.
                    for i in 0..<count { text[i] = 0x20 }
                    return count
                }
                var at = 0
                var from = start
                for k in first..<ends.count {
                    let end = Int(ends[k])
                    (out + at).initialize(from: source + from, count: end - from)
                    at += end - from
                    from = end
                    if k + 1 < ends.count {
                        out[at] = 0x20
                        at += 1
                    }
                }
                return at
            }
        }
    }
}
