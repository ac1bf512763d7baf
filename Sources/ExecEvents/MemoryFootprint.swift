/// A value that can tell roughly how many bytes of memory it holds, for memory budgets counted in
/// bytes (the engine's and the reassembler's).
///
/// Approximate but honest: the bytes of every heap allocation the value owns (text, arrays) plus a
/// fixed overhead for each (object header, malloc's own bookkeeping and rounding), plus the value's
/// inline size. Storage shared between values (a copied `String`) is counted by each holder, so the
/// figure errs high, never far low.
public protocol MemoryFootprint {
    /// Approximate bytes held, inline size included.
    var footprintBytes: Int { get }
    /// False when no value of the type holds heap memory (its footprint is its inline size), so an
    /// array of them is measured without visiting its elements.
    static var holdsHeapMemory: Bool { get }
}

extension MemoryFootprint {
    public static var holdsHeapMemory: Bool { true }
}

/// What one heap allocation costs beyond the bytes it holds: Swift's object header (type, reference
/// count, count and capacity) and malloc's chunk header and 16-byte rounding.
public enum HeapAllocation {
    public static let overhead = 48

    /// Bytes of one heap allocation holding `payload` bytes.
    @inline(__always)
    public static func bytes(holding payload: Int) -> Int { overhead + payload }
}

extension String: MemoryFootprint {
    /// Text of up to 15 UTF-8 bytes is stored inline; longer text in one allocation.
    public var footprintBytes: Int {
        let count = utf8.count
        return MemoryLayout<String>.stride + (count <= 15 ? 0 : HeapAllocation.bytes(holding: count + 1))
    }
}

extension Array: MemoryFootprint where Element: MemoryFootprint {
    /// The array's buffer (by capacity) and what each element holds beyond its inline size.
    public var footprintBytes: Int {
        var total = MemoryLayout<Self>.stride
        if capacity > 0 {
            total += HeapAllocation.bytes(holding: capacity * MemoryLayout<Element>.stride)
            if Element.holdsHeapMemory {
                for element in self { total += element.footprintBytes - MemoryLayout<Element>.stride }
            }
        }
        return total
    }
}

extension UInt32: MemoryFootprint {
    public var footprintBytes: Int { 4 }
    public static var holdsHeapMemory: Bool { false }
}

extension ArgumentVector: MemoryFootprint {
    /// Its two buffers.
    public var footprintBytes: Int {
        bytes.footprintBytes + ends.footprintBytes
    }
}

extension UInt8: MemoryFootprint {
    public var footprintBytes: Int { 1 }
    public static var holdsHeapMemory: Bool { false }
}

extension Optional: MemoryFootprint where Wrapped: MemoryFootprint {
    public var footprintBytes: Int {
        switch self {
        case .none: MemoryLayout<Self>.stride
        case .some(let wrapped): wrapped.footprintBytes - MemoryLayout<Wrapped>.stride + MemoryLayout<Self>.stride
        }
    }
}

extension AttributeValue: MemoryFootprint {
    public var footprintBytes: Int {
        switch self {
        case .string(let text): text.footprintBytes - MemoryLayout<String>.stride + MemoryLayout<Self>.stride
        case .integer: MemoryLayout<Self>.stride
        }
    }
}

extension ExecEvent: MemoryFootprint {
    /// The event's inline size, its text attributes, its argv and its extra attributes.
    public var footprintBytes: Int {
        var total = MemoryLayout<Self>.stride
        func text(_ value: String?) {
            if let value { total += value.footprintBytes - MemoryLayout<String>.stride }
        }
        text(eventType)
        text(hostName)
        text(user)
        text(procName)
        text(swParam)
        text(parentProcName)
        text(parentExePath)
        text(parentCommandLine)
        text(invokedPath)
        text(exePath)
        text(cwd)
        text(loginUser)
        text(tty)
        text(auditKey)
        if let args { total += args.footprintBytes - MemoryLayout<ArgumentVector>.stride }
        if !extra.isEmpty {
            // A dictionary's table: a slot per entry (key, value, hash metadata), about half full.
            let slot = MemoryLayout<String>.stride + MemoryLayout<AttributeValue>.stride + 1
            total += HeapAllocation.bytes(holding: 2 * extra.count * slot)
            for (name, value) in extra {
                total += name.footprintBytes - MemoryLayout<String>.stride
                total += value.footprintBytes - MemoryLayout<AttributeValue>.stride
            }
        }
        return total
    }
}
