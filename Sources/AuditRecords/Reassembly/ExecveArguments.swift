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
        // Until a translated field (none in EXECVE records as the kernel writes them), a scanner
        // may start again at any field: a chunk or a whole argument read in one pass is passed
        // over that way. Chunks are looked for once an `aN_len` has announced them (the kernel
        // writes one before them).
        var beforeTranslations = true
        while true {
            if beforeTranslations {
                if announcedLength != nil, let end = appendChunkInOrder(body, at: scanner.offset) {
                    scanner = AuditFieldScanner(body, from: end)
                    continue
                }
                if let end = storeArgument(body, at: scanner.offset) {
                    scanner = AuditFieldScanner(body, from: end)
                    continue
                }
            }
            guard let field = scanner.next() else { break }
            if field.isTranslated {
                beforeTranslations = false
                continue
            }
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

    /// Reads the field at `offset` (after spaces) when it is the hot case of a long argument:
    /// `aN[k]=HEX`, chunk `k` of argument N next in order, its value decoded while its end is
    /// found (``appendHexValue(in:from:to:)``). Returns where the field ends; nil, with nothing
    /// taken in, for any other field (``AuditFieldScanner/next()`` reads it as usual).
    private mutating func appendChunkInOrder(_ body: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        let count = body.count
        var i = offset
        guard let index = Self.argumentIndex(in: body, at: &i), i < count, body[i] == UInt8(ascii: "[") else {
            return nil
        }
        i += 1
        guard let chunk = Self.shortNumber(in: body, at: &i), chunk <= Self.maximumChunk, i + 1 < count,
            body[i] == UInt8(ascii: "]"),
            body[i + 1] == UInt8(ascii: "=")
        else { return nil }
        let valueStart = i + 2
        guard valueStart < count, body[valueStart] != UInt8(ascii: "\""), body[valueStart] != UInt8(ascii: "'"),
            chunks[index] == nil, chunk == joinedChunks[index]?.count ?? 0
        else { return nil }
        // As ingest(body:) begins an argument's chunks.
        if chunk == 0, let announced = announcedLength, announced.index == index {
            joinedChunks[index] = JoinedChunks(reservingCapacity: announced.length)
        }
        return joinedChunks[index, default: JoinedChunks()].appendHexChunk(in: body, from: valueStart)
    }

    /// Reads the field at `offset` (after spaces) when it is a whole argument, `aN="text"` or
    /// `aN=HEX` (even-length hex), and stores it as ``AuditFieldScanner/next()`` and
    /// ``decode(_:)`` would, without building a field and parsing its key again: most fields of
    /// an EXECVE record are such. Returns where the field ends; nil, with nothing stored, for any
    /// other field (`argc`, `aN_len`, chunks, `(null)`, malformed values).
    private mutating func storeArgument(_ body: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        let count = body.count
        guard let base = body.baseAddress else { return nil }
        var i = offset
        guard let index = Self.argumentIndex(in: body, at: &i), i < count, body[i] == UInt8(ascii: "=") else {
            return nil
        }
        let start = i + 1
        if start < count, body[start] == UInt8(ascii: "\"") {
            // As the scanner reads a quoted value: up to the next quote, or the end of the body.
            let end = AuditFieldScanner.firstQuote(UInt8(ascii: "\""), in: base, from: start + 1, to: count)
            store(Array(UnsafeRawBufferPointer(rebasing: body[(start + 1)..<end])), at: index)
            return min(end + 1, count)
        }
        guard start == count || body[start] != UInt8(ascii: "'") else { return nil }
        // A bare value ends at a space or at the 0x1d byte before the translations.
        let end = AuditFieldScanner.firstSpaceOrSeparator(in: base, from: start, to: count)
        var bytes: [UInt8] = []
        guard appendHexValue(in: UnsafeRawBufferPointer(rebasing: body[..<end]), from: start, to: &bytes) == end else {
            return nil
        }
        store(bytes, at: index)
        return end
    }

    /// The `N` of a key `aN` at `i` (after spaces), below ``maximumCount``, `i` moved past it;
    /// nil for any other key (the fast paths above then leave the field to the scanner).
    @inline(__always)
    private static func argumentIndex(in body: UnsafeRawBufferPointer, at i: inout Int) -> Int? {
        while i < body.count, body[i] == 0x20 { i += 1 }
        guard i < body.count, body[i] == UInt8(ascii: "a") else { return nil }
        i += 1
        guard let index = shortNumber(in: body, at: &i), index < maximumCount else { return nil }
        return index
    }

    /// One to six decimal digits at `i`, not followed by a seventh, `i` moved past them (an
    /// argument's index and a chunk's number are below their maxima); nil otherwise.
    @inline(__always)
    private static func shortNumber(in body: UnsafeRawBufferPointer, at i: inout Int) -> Int? {
        let count = body.count
        let start = i
        var value = 0
        while i < count, i - start < 6, body[i] >= 0x30, body[i] <= 0x39 {
            value = value * 10 + Int(body[i] - 0x30)
            i += 1
        }
        return i > start && (i == count || body[i] < 0x30 || body[i] > 0x39) ? value : nil
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

    /// Appends the next chunk, a bare hex value at `start` in `body`, decoded in one pass; returns
    /// where it ends, or nil (nothing appended) unless it is even-length hex that a space or the
    /// end of the body ends (see ``appendHexValue(in:from:to:)``).
    mutating func appendHexChunk(in body: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let end = appendHexValue(in: body, from: start, to: &bytes) else { return nil }
        ends.append(bytes.count)
        return end
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
