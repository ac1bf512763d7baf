import ExecEvents

#if canImport(Glibc)
import Glibc
#endif

/// The argv of one execution, collected from its EXECVE records: `argc=N a0="ls" a1=2D6C …`,
/// long arguments split as `a1_len=40000 a1[0]=… a1[1]=…`, and one event's arguments spread over
/// several records (possibly out of order).
struct ExecveArguments {
    /// `argc` from the first EXECVE record; nil until it is seen.
    private(set) var declaredCount: Int?
    private var arguments: [[UInt8]] = []
    /// Chunks of split arguments, by argument index: (chunk index, bytes).
    private var chunks: [Int: [(Int, [UInt8])]] = [:]
    /// Split arguments whose chunks have come in order from 0, as the kernel writes them: decoded
    /// straight into one buffer, by argument index. A chunk out of that order moves its argument to
    /// ``chunks``.
    private var joinedChunks: [Int: JoinedChunks] = [:]
    /// Fields that could not be read (bad index, bad hex), for the malformed count.
    private(set) var malformedFields = 0
    /// The last `aN_len` read: the kernel writes it just before chunk 0 of argument N, whose
    /// buffer is then made that large at once instead of growing chunk by chunk.
    private var announcedLength: (index: Int, length: Int)?
    /// The most bytes reserved from an `aN_len` (the kernel's MAX_ARG_STRLEN is 128 KiB).
    static let maximumReservedLength = 1 << 18

    /// The most argument slots reserved from an `argc` (the rest grow as they come).
    static let maximumReservedCount = 4096

    /// More arguments than the kernel can pass (MAX_ARG_STRLEN/MAX_ARG_STRINGS bound them far
    /// below this): an index beyond it is a malformed field, not a reason to allocate.
    static let maximumCount = 1 << 18
    /// More chunks than one argument can have (MAX_ARG_STRLEN is 128 KiB, the kernel logs chunks of
    /// a few hundred bytes): a larger chunk number is a malformed field.
    static let maximumChunk = 1 << 18

    var isEmpty: Bool { declaredCount == nil && arguments.isEmpty && chunks.isEmpty && joinedChunks.isEmpty }

    /// Takes in the fields of one EXECVE record.
    mutating func ingest(body: UnsafeRawBufferPointer) {
        var scanner = AuditFieldScanner(body)
        while let field = scanner.next() {
            if field.isTranslated { continue }
            let key = field.key
            if bytesEqual(key, "argc") {
                if let count = parseDecimal(field.value), count <= UInt64(Self.maximumCount) {
                    declaredCount = Int(count)
                    arguments.reserveCapacity(min(Int(count), Self.maximumReservedCount))
                } else {
                    malformedFields += 1
                }
                continue
            }
            guard key.count >= 2, key[0] == UInt8(ascii: "a") else { continue }
            // aN, aN_len, aN[k]
            var i = 1
            var index = 0
            while i < key.count, key[i] >= 0x30, key[i] <= 0x39, index <= Self.maximumCount {
                index = index * 10 + Int(key[i] - 0x30)
                i += 1
            }
            guard i > 1, index < Self.maximumCount else {
                malformedFields += 1
                continue
            }
            if i == key.count {
                store(decode(field), at: index)
            } else if bytesEqual(UnsafeRawBufferPointer(rebasing: key[i...]), "_len") {
                // The total length: the chunks carry the bytes.
                if let length = parseDecimal(field.value) {
                    announcedLength = (index, Int(min(length, UInt64(Self.maximumReservedLength))))
                }
                continue
            } else if key[i] == UInt8(ascii: "["), key[key.count - 1] == UInt8(ascii: "]"),
                let number = parseDecimal(UnsafeRawBufferPointer(rebasing: key[(i + 1)..<(key.count - 1)])),
                number <= UInt64(Self.maximumChunk)
            {
                let chunk = Int(number)
                if chunks[index] == nil {
                    if chunk == joinedChunks[index]?.count ?? 0 {
                        if chunk == 0, let announced = announcedLength, announced.index == index {
                            joinedChunks[index] = JoinedChunks(reservingCapacity: announced.length)
                        }
                        if !joinedChunks[index, default: JoinedChunks()].append(field) { malformedFields += 1 }
                        continue
                    }
                    if let joined = joinedChunks.removeValue(forKey: index) { chunks[index] = joined.parts }
                }
                let bytes = decode(field)
                if let at = chunks[index]?.firstIndex(where: { $0.0 == chunk }) {
                    chunks[index]![at].1 = bytes  // a repeated record: keep one copy
                } else {
                    chunks[index, default: []].append((chunk, bytes))
                }
            } else {
                malformedFields += 1
            }
        }
    }

    /// EXECVE values: quoted text is literal, anything else is hex.
    private mutating func decode(_ field: AuditFieldScanner.Field) -> [UInt8] {
        if field.isQuoted { return Array(field.value) }
        if bytesEqual(field.value, "(null)") { return [] }
        if let bytes = decodeHex(field.value) { return bytes }
        malformedFields += 1
        return Array(field.value)
    }

    private mutating func store(_ bytes: [UInt8], at index: Int) {
        if index == arguments.count {  // arguments in order, as the kernel writes them
            arguments.append(bytes)
            return
        }
        if index > arguments.count {
            arguments.append(contentsOf: repeatElement([], count: index - arguments.count + 1))
        }
        arguments[index] = bytes
    }

    /// The argv: `argc` entries when argc was given (missing ones empty), else as many as seen.
    mutating func finish() -> [[UInt8]] {
        for (index, joined) in joinedChunks { store(joined.bytes, at: index) }
        joinedChunks = [:]
        for (index, parts) in chunks {
            var joined: [UInt8] = []
            for (_, bytes) in parts.sorted(by: { $0.0 < $1.0 }) { joined.append(contentsOf: bytes) }
            store(joined, at: index)
        }
        chunks = [:]
        if let declaredCount {
            if arguments.count < declaredCount {
                arguments.append(contentsOf: repeatElement([], count: declaredCount - arguments.count))
            } else if arguments.count > declaredCount {
                arguments.removeLast(arguments.count - declaredCount)
            }
        }
        return arguments
    }
}

/// The chunks `aN[0]`, `aN[1]`, … of one argument, decoded into one buffer as they come.
private struct JoinedChunks {
    private(set) var bytes: [UInt8] = []
    /// Where each chunk ends in ``bytes``.
    private var ends: [Int] = []

    /// Chunks taken in.
    var count: Int { ends.count }

    init() {}

    /// Room for `length` bytes of decoded argument, as its `aN_len` announces.
    init(reservingCapacity length: Int) {
        bytes.reserveCapacity(length)
    }

    /// Appends the next chunk as ``ExecveArguments`` decodes a value; false when it is malformed
    /// (kept as it stands).
    mutating func append(_ field: AuditFieldScanner.Field) -> Bool {
        defer { ends.append(bytes.count) }
        if field.isQuoted {
            bytes.append(contentsOf: field.value)
            return true
        }
        if bytesEqual(field.value, "(null)") || appendDecodedHex(field.value, to: &bytes) { return true }
        bytes.append(contentsOf: field.value)
        return false
    }

    /// The chunks apart: (chunk index, bytes).
    var parts: [(Int, [UInt8])] {
        var start = 0
        return ends.enumerated().map { chunk, end in
            defer { start = end }
            return (chunk, Array(bytes[start..<end]))
        }
    }
}
