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
    /// Every value read (whole arguments and chunks), decoded, one after another as they came.
    private var bytes: [UInt8] = []
    /// What each value in ``bytes`` is, in the order they came; noted only from the first chunk
    /// or the first value out of order on (empty until then): until then every value was a whole
    /// argument in order, which ``orderedEnds`` tells.
    private var pieces: [Piece] = []
    /// While the values come as the kernel writes them (argument 0, 1, …, each whole or its
    /// chunks 0, 1, … in order), where each argument ends in ``bytes``: the argv is then
    /// ``bytes`` as it stands. Nil once a value comes out of that order (a repeated record,
    /// records out of order, a gap): ``finish()`` then puts the argv together from ``pieces``.
    private var orderedEnds: [UInt32]? = []
    /// The next chunk number that continues the last argument of ``orderedEnds``; nil when that
    /// argument was whole.
    private var nextChunkInOrder: Int?
    /// Fields that could not be read (bad index, bad hex), for the malformed count.
    private(set) var malformedFields = 0
    /// The last `aN_len` read: the kernel writes it just before chunk 0 of argument N, for which
    /// room is then made at once instead of growing chunk by chunk.
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

    /// One value read: argument `index` whole (`chunk` nil) or its chunk `chunk`, ending at `end`
    /// in ``bytes`` (starting where the value before it ends).
    private struct Piece {
        var index: Int32
        var chunk: Int32?
        var end: UInt32
    }

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
                if announcedLength != nil, let end = appendHexChunk(body, at: scanner.offset) {
                    scanner = AuditFieldScanner(body, from: end)
                    continue
                }
                if let end = appendArgument(body, at: scanner.offset) {
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
                    orderedEnds?.reserveCapacity(min(Int(count), Self.maximumReservedCount))
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
                append(field)
                addPiece(index: index, chunk: nil)
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
                makeRoom(forChunk: Int(number), of: index)
                append(field)
                addPiece(index: index, chunk: Int(number))
            } else {
                malformedFields += 1
            }
        }
    }

    /// Reads the field at `offset` (after spaces) when it is the hot case of a long argument:
    /// `aN[k]=HEX`, its value decoded while its end is found (``appendHexValue(in:from:to:)``).
    /// Returns where the field ends; nil, with nothing taken in, for any other field
    /// (``AuditFieldScanner/next()`` reads it as usual).
    private mutating func appendHexChunk(_ body: UnsafeRawBufferPointer, at offset: Int) -> Int? {
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
        guard valueStart < count, body[valueStart] != UInt8(ascii: "\""), body[valueStart] != UInt8(ascii: "'")
        else { return nil }
        makeRoom(forChunk: chunk, of: index)
        guard let end = appendHexValue(in: body, from: valueStart, to: &bytes) else { return nil }
        addPiece(index: index, chunk: chunk)
        return end
    }

    /// Reads the field at `offset` (after spaces) when it is a whole argument, `aN="text"` or
    /// `aN=HEX` (even-length hex), and takes it in as ``AuditFieldScanner/next()`` and
    /// ``append(_:)`` would, without building a field and parsing its key again: most fields of
    /// an EXECVE record are such. Returns where the field ends; nil, with nothing taken in, for
    /// any other field (`argc`, `aN_len`, chunks, `(null)`, malformed values).
    private mutating func appendArgument(_ body: UnsafeRawBufferPointer, at offset: Int) -> Int? {
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
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[(start + 1)..<end]))
            addPiece(index: index, chunk: nil)
            return min(end + 1, count)
        }
        guard start == count || body[start] != UInt8(ascii: "'") else { return nil }
        // A bare value ends at a space or at the 0x1d byte before the translations.
        let end = AuditFieldScanner.firstSpaceOrSeparator(in: base, from: start, to: count)
        let before = bytes.count
        guard appendHexValue(in: UnsafeRawBufferPointer(rebasing: body[..<end]), from: start, to: &bytes) == end else {
            bytes.removeLast(bytes.count - before)
            return nil
        }
        addPiece(index: index, chunk: nil)
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

    /// Appends an EXECVE value to ``bytes``: quoted text is literal, `(null)` is empty, anything
    /// else is hex (kept as it stands, and counted malformed, when it is not).
    private mutating func append(_ field: AuditFieldScanner.Field) {
        if field.isQuoted {
            bytes.append(contentsOf: field.value)
        } else if !bytesEqual(field.value, "(null)"), !appendDecodedHex(field.value, to: &bytes) {
            malformedFields += 1
            bytes.append(contentsOf: field.value)
        }
    }

    /// Before chunk 0 of the argument the last `aN_len` announced: room for all of it at once.
    @inline(__always)
    private mutating func makeRoom(forChunk chunk: Int, of index: Int) {
        guard chunk == 0, let announced = announcedLength, announced.index == index,
            bytes.capacity - bytes.count < announced.length
        else { return }
        // Grown by doubling at least: reserving the exact size would copy the buffer at every
        // long argument.
        bytes.reserveCapacity(Swift.max(bytes.count + announced.length, 2 * bytes.capacity))
    }

    /// Notes the value just appended to ``bytes`` as argument `index` (whole, or its chunk `chunk`).
    @inline(__always)
    private mutating func addPiece(index: Int, chunk: Int?) {
        let end = UInt32(bytes.count)
        if !pieces.isEmpty || chunk != nil || index != orderedEnds?.count {
            if pieces.isEmpty {
                // The values so far: whole arguments 0, 1, … in order.
                for (k, end) in (orderedEnds ?? []).enumerated() {
                    pieces.append(Piece(index: Int32(k), chunk: nil, end: end))
                }
            }
            pieces.append(Piece(index: Int32(index), chunk: chunk.map { Int32($0) }, end: end))
        }
        guard let count = orderedEnds?.count else { return }
        if let chunk {
            if chunk == 0, index == count {
                orderedEnds!.append(end)
                nextChunkInOrder = 1
                return
            }
            if chunk == nextChunkInOrder, index == count - 1 {
                orderedEnds![count - 1] = end
                nextChunkInOrder = chunk + 1
                return
            }
        } else if index == count {
            orderedEnds!.append(end)
            nextChunkInOrder = nil
            return
        }
        orderedEnds = nil
    }

    /// The argv: `argc` entries when argc was given (missing ones empty), else as many as seen.
    /// An argument given more than once is the last value given; one given in chunks is its
    /// chunks in their order (the last of each chunk given), whether or not it was given whole too.
    mutating func finish() -> ArgumentVector {
        var argv: (bytes: [UInt8], ends: [UInt32])
        if let ordered = orderedEnds {
            argv = (bytes, ordered)
        } else {
            argv = assembled()
        }
        bytes = []
        pieces = []
        orderedEnds = []
        nextChunkInOrder = nil
        if let declaredCount {
            if argv.ends.count < declaredCount {
                argv.ends.append(contentsOf: repeatElement(argv.ends.last ?? 0, count: declaredCount - argv.ends.count))
            } else if argv.ends.count > declaredCount {
                argv.ends.removeLast(argv.ends.count - declaredCount)
            }
        }
        return ArgumentVector(bytes: argv.bytes, ends: argv.ends)
    }

    /// The argv put together from ``pieces`` (see ``finish()``), as many arguments as the
    /// highest index seen.
    private func assembled() -> (bytes: [UInt8], ends: [UInt32]) {
        var whole: [Int: Range<Int>] = [:]
        var chunked: [Int: [Int: Range<Int>]] = [:]
        var start = 0
        var count = 0
        for piece in pieces {
            let range = start..<Int(piece.end)
            start = Int(piece.end)
            let index = Int(piece.index)
            count = Swift.max(count, index + 1)
            if let chunk = piece.chunk {
                chunked[index, default: [:]][Int(chunk)] = range
            } else {
                whole[index] = range
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var ends: [UInt32] = []
        ends.reserveCapacity(count)
        for index in 0..<count {
            if let chunks = chunked[index] {
                for chunk in chunks.keys.sorted() { out.append(contentsOf: bytes[chunks[chunk]!]) }
            } else if let range = whole[index] {
                out.append(contentsOf: bytes[range])
            }
            ends.append(UInt32(out.count))
        }
        return (out, ends)
    }
}
